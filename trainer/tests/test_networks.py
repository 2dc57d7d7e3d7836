import torch
from torch import nn

from dptrain.networks import CriticEnsemble, Denoiser, Mish, sinusoidal_embedding
from dptrain.policy import Normalizer


def count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_parameter_counts_match_the_authors_networks():
    # docs/algorithms.md, table "Parameter counts" (HalfCheetah: obs 17, act 6).
    assert count(Denoiser(17, 6, t_dim=32, t_hidden=256)) == 164_134  # QVPO
    assert count(Denoiser(17, 6, t_dim=16, t_hidden=32)) == 144_438  # Diffusion-QL
    assert count(CriticEnsemble(17, 6, members=2)) == 275_970  # twin Q
    assert count(Denoiser(11, 3, t_dim=32, t_hidden=256)) == 161_059  # QVPO Hopper


def test_sinusoidal_embedding_formula():
    t = torch.tensor([0, 3, 19])
    emb = sinusoidal_embedding(t, 32)
    k = torch.arange(16, dtype=torch.float64)
    f = torch.exp(-k * torch.log(torch.tensor(1e4, dtype=torch.float64)) / 15)
    want = torch.cat([torch.sin(t[:, None] * f), torch.cos(t[:, None] * f)], dim=1)
    torch.testing.assert_close(emb.double(), want, atol=1e-5, rtol=0)


def test_fast_mish_equals_mish():
    x = torch.linspace(-60, 60, 20001)
    torch.testing.assert_close(Mish()(x), nn.functional.mish(x), atol=1e-5, rtol=1e-5)
    x = torch.randn(1000, requires_grad=True)
    Mish()(x).sum().backward()
    g = x.grad.clone()
    x.grad = None
    nn.functional.mish(x).sum().backward()
    torch.testing.assert_close(g, x.grad, atol=1e-5, rtol=1e-5)


def test_ensemble_members_are_independent_and_ordered():
    critic = CriticEnsemble(3, 2, members=4, hidden=8)
    obs, act = torch.randn(5, 3), torch.randn(5, 2)
    q = critic(obs, act)
    assert q.shape == (5, 4)
    with torch.no_grad():
        critic.layers[-1].bias[2] += 1.0  # moves member 2 only
    q2 = critic(obs, act)
    torch.testing.assert_close(q2[:, 2], q[:, 2] + 1.0)
    torch.testing.assert_close(q2[:, [0, 1, 3]], q[:, [0, 1, 3]])


def test_denoiser_input_order_is_action_time_observation():
    d = Denoiser(3, 2, hidden=8, t_dim=4, t_hidden=8)
    first = d.trunk[0]
    assert first.in_features == 2 + 4 + 3
    x, t, obs = torch.randn(1, 2), torch.tensor([1]), torch.randn(1, 3)
    with torch.no_grad():
        first.weight[:, 6:] = 0  # observation columns off: the output no longer depends on obs
    torch.testing.assert_close(d(x, t, obs), d(x, t, obs * 5))


def test_normalizer_running_stats():
    n = Normalizer(2, clip=5.0)
    data = torch.randn(1000, 2) * torch.tensor([3.0, 0.5]) + torch.tensor([1.0, -2.0])
    for chunk in data.split(100):
        n.update(chunk)
    torch.testing.assert_close(n.mean, data.double().mean(0))
    torch.testing.assert_close(n.var, data.double().var(0, unbiased=False))
    assert n(torch.tensor([[1e6, -1e6]])).tolist() == [[5.0, -5.0]]
