import argparse
import json

import numpy as np
import pytest

from dptrain.algos.qvpo import QVPOConfig
from dptrain.config import add_config_arguments, build_config
from dptrain.replay import ReplayBuffer


def parse(argv):
    p = argparse.ArgumentParser()
    add_config_arguments(p, QVPOConfig)
    return p.parse_args(argv)


def test_defaults_follow_the_authors():
    cfg = QVPOConfig()
    assert (cfg.T, cfg.schedule, cfg.actor_lr, cfg.critic_lr, cfg.batch_size) == (20, "cosine", 1e-4, 3e-4, 256)
    assert (cfg.train_sample, cfg.behavior_sample, cfg.target_sample, cfg.eval_sample) == (64, 4, 4, 32)
    assert (cfg.entropy_alpha, cfg.entropy_alpha_min, cfg.uniform_samples) == (0.02, 0.002, 10)


def test_file_then_flags(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("T: 5\nbatch_size: 64\nnormalize_obs: true\n")
    cfg = build_config(QVPOConfig, parse(["--config", str(f), "--batch-size", "32", "--normalize-obs", "false"]))
    assert (cfg.T, cfg.batch_size, cfg.normalize_obs, cfg.gamma) == (5, 32, False, 0.99)
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"tau": 0.01}))
    assert build_config(QVPOConfig, parse(["--config", str(j)])).tau == 0.01


def test_unknown_fields_are_errors(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("learning_rate: 1\n")
    with pytest.raises(ValueError, match="unknown config field 'learning_rate'"):
        build_config(QVPOConfig, parse(["--config", str(f)]))
    with pytest.raises(SystemExit):
        parse(["--normalize-obs", "maybe"])


def test_replay_ring_and_dataset_roundtrip(tmp_path):
    buf = ReplayBuffer(2, 1, capacity=3)
    for i in range(5):
        buf.add([i, i], [0.1 * i], float(i), [i + 1, i + 1], i == 4)
    assert buf.size == 3 and sorted(buf.data["rewards"].tolist()) == [2.0, 3.0, 4.0]
    batch = buf.sample(8, np.random.default_rng(0))
    assert batch["observations"].shape == (8, 2) and batch["terminals"].dtype.is_floating_point
    path = tmp_path / "d.npz"
    buf.save_dataset(str(path))
    again = ReplayBuffer.from_dataset(str(path))
    assert again.size == 3
    np.testing.assert_array_equal(again.data["actions"], buf.data["actions"])
    np.savez(tmp_path / "bad.npz", observations=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="dataset lacks"):
        ReplayBuffer.from_dataset(str(tmp_path / "bad.npz"))
    # several files, comma separated: concatenated in order; sizes must agree
    both = ReplayBuffer.from_dataset(f"{path},{path}")
    assert both.size == 6
    np.testing.assert_array_equal(both.data["rewards"], np.tile(buf.data["rewards"], 2))
    wide = ReplayBuffer(3, 1, capacity=1)
    wide.add([0, 0, 0], [0.0], 0.0, [0, 0, 0], False)
    wide.save_dataset(str(tmp_path / "wide.npz"))
    with pytest.raises(ValueError, match="sizes differ"):
        ReplayBuffer.from_dataset(f"{path},{tmp_path / 'wide.npz'}")
