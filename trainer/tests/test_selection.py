import pytest
import torch

from dptrain.selection import aggregate, gather_candidates, select_index


def test_aggregations():
    q = torch.tensor([[1.0, 3.0, 5.0], [2.0, 2.0, 2.0]])
    assert aggregate(q, "min").tolist() == [1.0, 2.0]
    assert aggregate(q, "mean").tolist() == [3.0, 2.0]
    assert aggregate(q, "lcb", 0.5).tolist() == [2.0, 2.0]  # std of [1,3,5] with Bessel = 2
    torch.testing.assert_close(aggregate(q, "lcb", 1.5), q.mean(1) - 1.5 * q.std(1))
    with pytest.raises(ValueError, match="unknown critic aggregation 'max'"):
        aggregate(q, "max")


def test_selection_rules():
    scores = torch.tensor([[0.0, 2.0, 1.0], [5.0, -1.0, 4.0]])
    assert select_index(scores).tolist() == [1, 0]
    # softmax by inverse CDF: u below the first cumulative probability picks 0, near 1 picks the last.
    assert select_index(scores, "softmax", 1.0, torch.tensor([0.0, 0.999])).tolist() == [0, 2]
    p = torch.softmax(scores[0], 0)
    assert select_index(scores[:1], "softmax", 1.0, torch.tensor([float(p[0] + p[1] / 2)])).tolist() == [1]
    with pytest.raises(ValueError, match="unknown selection rule"):
        select_index(scores, "top")


def test_gather_candidates():
    c = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2)
    assert gather_candidates(c, torch.tensor([2, 0])).tolist() == [[4.0, 5.0], [6.0, 7.0]]
