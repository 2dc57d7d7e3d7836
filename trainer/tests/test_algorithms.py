"""Training improves the return over a random policy by a clear, seeded margin, and runs resume exactly."""

import numpy as np
import pytest
import torch

from dptrain.algos import diffusion_ql, qvpo
from dptrain.common import evaluate
from dptrain.envs.bandit import ContextualBandit
from dptrain.export import load_checkpoint_policy
from dptrain.replay import ReplayBuffer
from dptrain.run import load_trusted

SMALL = dict(hidden=64, t_hidden=32, critic_hidden=64, threads=1)


def random_return(episodes=200) -> float:
    rng = np.random.default_rng(0)
    return float(evaluate(lambda obs: rng.uniform(-1, 1, 2), "bandit", episodes, seed=123).mean())


def test_bandit_random_policy_scores_low_and_the_best_action_scores_one():
    env = ContextualBandit()
    obs, _ = env.reset(seed=0)
    assert env.step(env.best_action(obs))[1] == pytest.approx(1.0)
    assert random_return() < 0.15


def qvpo_config(**kw):
    base = dict(env="bandit", seed=0, total_steps=700, warmup_steps=200, batch_size=64, T=5, train_sample=16,
                eval_sample=16, eval_interval=700, eval_episodes=100, checkpoint_interval=700, log_interval=100,
                actor_lr=3e-4, **SMALL)
    return qvpo.QVPOConfig(**{**base, **kw})


def test_qvpo_learns_the_bandit(tmp_path):
    result = qvpo.train(qvpo_config(), str(tmp_path))
    baseline = random_return()
    assert result["last_return"] > baseline + 0.4, (result, baseline)
    # The logs and the best checkpoint are there, and the exported policy does as well as the logged eval.
    assert (tmp_path / "train.csv").read_text().count("\n") >= 5
    assert "return_mean" in (tmp_path / "eval.csv").read_text()
    policy, spec, state = load_checkpoint_policy(tmp_path)
    assert state["eval_return"] == pytest.approx(result["best_return"])
    assert spec.K == 16 and spec.rule == "argmax" and spec.aggregation == "min"


def test_qvpo_entropy_weight_decays_linearly_to_its_floor():
    cfg = qvpo.QVPOConfig(total_steps=1000)
    assert qvpo.entropy_alpha(cfg, 0) == pytest.approx(0.02)
    assert qvpo.entropy_alpha(cfg, 500) == pytest.approx(0.01)
    assert qvpo.entropy_alpha(cfg, 990) == pytest.approx(0.002)


def test_qvpo_resume_continues_exactly(tmp_path):
    straight = qvpo_config(total_steps=400, checkpoint_interval=100, eval_interval=200, eval_episodes=5)
    qvpo.train(straight, str(tmp_path / "a"))
    qvpo.train(straight, str(tmp_path / "b"), stop_at=300)
    resumed = qvpo.train(straight, str(tmp_path / "b"), resume=True)
    assert resumed["step"] == 400
    a = load_trusted(tmp_path / "a" / "checkpoint.pt")["policy"]
    b = load_trusted(tmp_path / "b" / "checkpoint.pt")["policy"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)


def behaviour_dataset(path, n=3000, noise=0.35):
    env, rng = ContextualBandit(), np.random.default_rng(0)
    buf = ReplayBuffer(2, 2, n)
    for _ in range(n):
        s = rng.uniform(-1, 1, 2).astype(np.float32)
        a = np.clip(env.best_action(s) + rng.normal(0, noise, 2), -1, 1)
        buf.add(s, a, env.reward(s, a), s, 1.0)
    buf.save_dataset(str(path))
    return float(buf.data["rewards"].mean())


def test_diffusion_ql_beats_its_noisy_data(tmp_path):
    behaviour = behaviour_dataset(tmp_path / "d.npz")
    cfg = diffusion_ql.DiffusionQLConfig(dataset=str(tmp_path / "d.npz"), env="bandit", seed=0, total_steps=1000,
                                         batch_size=64, eval_sample=16, eval_interval=1000, eval_episodes=100,
                                         checkpoint_interval=1000, log_interval=100, ema_start=100, t_dim=16, **SMALL)
    result = diffusion_ql.train(cfg, str(tmp_path / "run"))
    assert result["last_return"] > behaviour + 0.2, (result, behaviour)
    assert result["last_return"] > random_return() + 0.4


def test_diffusion_ql_needs_a_dataset(tmp_path):
    with pytest.raises(ValueError, match="needs --dataset"):
        diffusion_ql.train(diffusion_ql.DiffusionQLConfig(), str(tmp_path))
