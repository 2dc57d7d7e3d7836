"""The entropy-regularised Q-ensemble method and DTQL: their pieces, short training on the bandit, export."""

import json
import math

import jsonschema
import numpy as np
import onnxruntime as ort
import pytest
import torch

from dptrain import export as export_mod
from dptrain.algos import dtql, qe_diffusion
from dptrain.cli import main
from dptrain.diffusion import Diffusion
from dptrain.export import load_checkpoint_policy
from dptrain.networks import Denoiser
from dptrain.policy import ActorPolicySpec, GaussianActor, build_actor_policy
from dptrain.run import load_trusted
from dptrain.schedules import make_betas, reverse_constants
from dptrain.selection import aggregate
from test_algorithms import behaviour_dataset, random_return
from test_export import DEPLOYMENT, SCHEMA

SMALL = dict(hidden=64, critic_hidden=64, threads=1)


# --- the mean-reverting SDE as a DDPM ----------------------------------------------------------------------------

def authors_sde(T: int, s: float = 0.008):
    """The authors' TractableSDE quantities, written from their formulas (float64)."""
    x = np.arange(T + 2, dtype=np.float64)
    f = np.cos(((x / (T + 1)) + s) / (1 + s) * np.pi * 0.5) ** 2
    thetas = 1 - (f / f[0])[1:-1]
    dt = -math.log(1e-3) / thetas.sum()
    cumsum = np.concatenate([[0.0], np.cumsum(thetas)])
    return thetas, dt, cumsum


@pytest.mark.parametrize("T", [5, 12])
def test_mean_reverting_schedule_is_the_authors_posterior_step(T):
    thetas, dt, cumsum = authors_sde(T)
    c = reverse_constants(make_betas("mean_reverting", T))
    assert c.alphas_cumprod[-1] == pytest.approx(1e-6, rel=1e-9)  # exp(-2 theta_bar_T) with exp(-theta_bar_T) = 1e-3
    t = np.arange(T)
    A, B, C = np.exp(-thetas * dt), np.exp(-cumsum[t + 1] * dt), np.exp(-cumsum[t] * dt)
    np.testing.assert_allclose(c.posterior_mean_coef2, A * (1 - C**2) / (1 - B**2), rtol=1e-9)  # multiplies a_t
    np.testing.assert_allclose(c.posterior_mean_coef1, C * (1 - A**2) / (1 - B**2), atol=1e-12)  # multiplies a_0
    var = (1 - A**2) * (1 - C**2) / (1 - B**2)
    np.testing.assert_allclose(c.noise_std[1:], np.sqrt(var[1:]), rtol=1e-9)
    # x0 from the predicted noise: (a_t - std_t eps) exp(theta_bar_t).
    np.testing.assert_allclose(c.sqrt_recip_alphas_cumprod, np.exp(cumsum[1:] * dt), rtol=1e-9)
    np.testing.assert_allclose(c.sqrt_recipm1_alphas_cumprod, np.sqrt(1 - B**2) / B, rtol=1e-9)


def qe_actor(T=5, clip_x0=None):
    return Diffusion(Denoiser(3, 2, 32, 2, 16, 16), "mean_reverting", T, clip_x0=clip_x0)


def test_qe_entropy_is_the_authors_closed_form():
    actor = qe_actor()
    sde = qe_diffusion.SDETerms(actor)
    thetas, dt, cumsum = authors_sde(5)
    tbar = cumsum[1:] * dt

    def log_fwd(x1, x2, t1, t2):
        tb = tbar[t2] - tbar[t1]
        return -0.5 * (np.log(2 * np.pi * (1 - np.exp(-2 * tb))) + (x1 - x2 * np.exp(-tb)) ** 2 / (1 - np.exp(-2 * tb)))

    a0 = torch.randn(6, 2)
    torch.manual_seed(5)
    got = sde.entropy(a0)
    torch.manual_seed(5)
    z = torch.randn_like(a0).double().numpy()
    x0 = a0.double().numpy()
    a1 = x0 - thetas[0] * x0 * dt
    want = -(log_fwd(a1, z, 1, 4) + log_fwd(x0, a1, 0, 1) - log_fwd(x0, z, 0, 4)).sum(axis=1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="at least 3"):
        qe_diffusion.SDETerms(qe_actor(T=2))


@pytest.mark.parametrize("loss_type", ["MLL", "NML"])
def test_qe_bc_loss_trains_the_mean_reverting_chain_onto_the_data(loss_type):
    """Either BC loss, then the reverse chain of the mean-reverting schedule: samples gather at the data's
    action (a loss inconsistent with the chain's constants would put them elsewhere). MLL converges more slowly
    than NML (its weighting of the steps), hence the looser spread."""
    torch.manual_seed(0)
    actor = Diffusion(Denoiser(3, 2, 64, 3, 16, 32), "mean_reverting", 5, clip_x0=1.0)
    sde = qe_diffusion.SDETerms(actor)
    opt = torch.optim.Adam(actor.parameters(), lr=1e-3)
    obs = torch.zeros(256, 3)
    target = torch.tensor([0.5, -0.3])
    for _ in range(500):
        loss, start_pred = qe_diffusion.bc_loss(actor, sde, target + 0.02 * torch.randn(256, 2), obs, loss_type)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start_pred.shape == (256, 2)
    with torch.no_grad():
        a = actor.sample(torch.zeros(1000, 3))
    assert float((a.mean(dim=0) - target).abs().max()) < 0.05, a.mean(dim=0)
    assert float(a.std(dim=0).max()) < (0.05 if loss_type == "NML" else 0.3), a.std(dim=0)


def test_lcb_is_mean_minus_beta_std_and_changes_the_choice():
    q = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 4.0, 0.0, 4.0]])  # same mean 1 vs 2, but the second disagrees
    assert aggregate(q, "mean").argmax() == 1
    lcb = qe_diffusion.lcb(q, 4.0)
    np.testing.assert_allclose(lcb.numpy(), [1.0, 2.0 - 4.0 * np.std([0, 4, 0, 4], ddof=1)], rtol=1e-6)
    assert lcb.argmax() == 0


# --- short training runs on the contextual bandit -----------------------------------------------------------------

def test_qe_diffusion_learns_the_bandit_and_exports_the_whole_ensemble(tmp_path):
    behaviour = behaviour_dataset(tmp_path / "d.npz")
    cfg = qe_diffusion.QEDiffusionConfig(dataset=str(tmp_path / "d.npz"), env="bandit", seed=0, total_steps=1000,
                                         batch_size=64, eval_sample=16, eval_interval=1000, eval_episodes=100,
                                         checkpoint_interval=1000, log_interval=100, ema_start=100, num_critics=8,
                                         lcb_coef=1.0, loss_type="NML", action_clip=True, t_hidden=32, **SMALL)
    result = qe_diffusion.train(cfg, str(tmp_path / "run"))
    # Pessimism (the LCB) keeps it near the data at so few steps: about the behaviour's 0.36 (0.37-0.46 seen), far
    # above a random policy's 0.1.
    assert result["last_return"] > random_return() + 0.2, (result, behaviour)
    header = (tmp_path / "run" / "train.csv").read_text().splitlines()[0]
    assert "entropy" in header and "q_std" in header

    policy, spec, state = load_checkpoint_policy(tmp_path / "run")
    assert (spec.aggregation, spec.beta, spec.rule, spec.critic_members) == ("lcb", 1.0, "softmax", 8)
    m = export_mod.export_policy(policy, spec, DEPLOYMENT | {"observation_terms": [{"name": "s", "size": 2, "sim_only": True}],
                                                            "joints": ["a", "b"]},
                                 tmp_path / "pkg", "qe", {"algorithm": "qe_diffusion", "seed": 0, "steps": 1000})
    jsonschema.validate(m, SCHEMA)
    assert m["diffusion"]["schedule"] == "mean_reverting" and m["diffusion"]["clip_x0"] == 1.0
    assert m["selection"]["aggregation"] == "lcb" and m["files"]["critic"]["outputs"][0]["shape"] == ["n", 8]
    sess = ort.InferenceSession(str(tmp_path / "pkg" / "critic.onnx"), providers=["CPUExecutionProvider"])
    obs, act = np.random.default_rng(0).uniform(-1, 1, (2, 5, 2)).astype(np.float32)
    q = sess.run(None, {"observation": obs, "action": act})[0]
    assert q.shape == (5, 8)
    with torch.no_grad():
        np.testing.assert_allclose(q, policy.critic(torch.from_numpy(obs), torch.from_numpy(act)).numpy(), atol=1e-5)


def dtql_config(tmp_path, **kw):
    base = dict(dataset=str(tmp_path / "d.npz"), env="bandit", seed=0, total_steps=800, pretrain_steps=200,
                batch_size=64, eval_sample=16, eval_interval=800, eval_episodes=100, checkpoint_interval=800,
                log_interval=100, bc_hidden=64, ema_decay=0.9, **SMALL)
    return dtql.DTQLConfig(**{**base, **kw})


def test_dtql_learns_the_bandit_with_a_one_step_policy(tmp_path):
    behaviour = behaviour_dataset(tmp_path / "d.npz")
    result = dtql.train(dtql_config(tmp_path), str(tmp_path / "run"))
    assert result["last_return"] > behaviour + 0.3, (result, behaviour)
    rows = (tmp_path / "run" / "train.csv").read_text().splitlines()
    assert rows[0].split(",")[:7] == ["step", "bc_loss", "critic_loss", "value_loss", "tr_loss", "q_loss", "actor_loss"]
    assert all(len(r.split(",")) == len(rows[0].split(",")) for r in rows)
    policy, spec, _ = load_checkpoint_policy(tmp_path / "run")
    assert isinstance(spec, ActorPolicySpec) and spec.critic_members == 2 and spec.critic_layer_norm


def test_offline_runs_resume_exactly(tmp_path):
    behaviour_dataset(tmp_path / "d.npz", n=500)
    cfg = dtql_config(tmp_path, total_steps=120, pretrain_steps=40, checkpoint_interval=40, eval_interval=120,
                      eval_episodes=5)
    dtql.train(cfg, str(tmp_path / "a"))
    dtql.train(cfg, str(tmp_path / "b"), stop_at=80)
    assert dtql.train(cfg, str(tmp_path / "b"), resume=True)["step"] == 120
    a = load_trusted(tmp_path / "a" / "checkpoint.pt")["agent"]
    b = load_trusted(tmp_path / "b" / "checkpoint.pt")["agent"]
    for part in ("policy", "actor", "bc", "value"):
        for key in a[part]:
            torch.testing.assert_close(a[part][key], b[part][key], rtol=0, atol=0, msg=f"{part}.{key}")


# --- the trust-region loss ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bc_on_two_points():
    """A BC model trained on actions at (0.5, 0.5) and (-0.5, -0.5) (one state)."""
    torch.manual_seed(0)
    bc = dtql.KarrasBC(1, 2, hidden=64, layers=3)
    opt = torch.optim.Adam(bc.parameters(), lr=1e-3)
    obs = torch.zeros(256, 1)
    for _ in range(600):
        a = torch.where(torch.rand(256, 1) < 0.5, 0.5, -0.5).expand(256, 2) + 0.02 * torch.randn(256, 2)
        loss = bc.loss(a, obs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return bc


def test_trust_region_loss_is_low_on_the_data_and_high_off_it(bc_on_two_points):
    torch.manual_seed(1)
    obs = torch.zeros(4000, 1)
    on = dtql.trust_region_loss(bc_on_two_points, torch.full((4000, 2), 0.5), obs)
    between = dtql.trust_region_loss(bc_on_two_points, torch.zeros(4000, 2), obs)
    off = dtql.trust_region_loss(bc_on_two_points, torch.tensor([[0.6, -0.6]]).expand(4000, 2), obs)
    assert float(on) < 0.5 * float(between) and float(on) < 0.5 * float(off), (float(on), float(between), float(off))


def test_trust_region_gradient_moves_actions_onto_a_mode_and_leaves_the_bc_model_alone(bc_on_two_points):
    torch.manual_seed(2)
    bc = bc_on_two_points
    before = [p.detach().clone() for p in bc.parameters()]
    actor = GaussianActor(1, 2, hidden=32)
    opt = torch.optim.Adam(actor.parameters(), lr=1e-2)
    obs = torch.zeros(256, 1)

    def distance_to_modes():
        with torch.no_grad():
            a = actor(obs, torch.randn(256, 2))
        return float(torch.minimum((a - 0.5).norm(dim=1), (a + 0.5).norm(dim=1)).mean())

    start = distance_to_modes()
    for _ in range(300):
        loss = dtql.trust_region_loss(bc, actor(obs, torch.randn(256, 2)), obs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert distance_to_modes() < 0.4 * start, (start, distance_to_modes())
    with torch.no_grad():  # mode-seeking: the Gaussian sits on one of the two modes, not between them
        mu, log_std = actor.mean_log_std(obs[:1])
    assert float(torch.minimum((torch.tanh(mu) - 0.5).norm(), (torch.tanh(mu) + 0.5).norm())) < 0.2, mu
    assert float(log_std.exp().max()) < 0.3
    for p, q in zip(bc.parameters(), before):
        torch.testing.assert_close(p.detach(), q, rtol=0, atol=0)


# --- the actor package --------------------------------------------------------------------------------------------

def test_actor_package_is_verified_and_has_no_diffusion_section(tmp_path):
    spec = ActorPolicySpec(obs_dim=5, act_dim=2, hidden=16, critic_hidden=16, K=4, normalize=True)
    policy = build_actor_policy(spec)
    m = export_mod.export_policy(policy, spec, DEPLOYMENT, tmp_path, "one-step", {"algorithm": "dtql", "seed": 0,
                                                                                 "steps": 0})
    jsonschema.validate(m, SCHEMA)
    assert set(m["files"]) == {"actor", "critic"} and "diffusion" not in m
    assert m["files"]["actor"]["inputs"] == [{"name": "observation", "dtype": "float32", "shape": ["n", 5]},
                                             {"name": "noise", "dtype": "float32", "shape": ["n", 2]}]
    assert max(m["provenance"]["export_max_diff"].values()) <= 1e-5
    sess = ort.InferenceSession(str(tmp_path / "actor.onnx"), providers=["CPUExecutionProvider"])
    obs = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    zero = sess.run(None, {"observation": obs, "noise": np.zeros((7, 2), np.float32)})[0]
    with torch.no_grad():
        mu, _ = policy.actor.mean_log_std(torch.from_numpy(obs))
    np.testing.assert_allclose(zero, torch.tanh(mu).numpy(), atol=1e-6)  # zero noise: the deterministic action
    assert np.all(np.abs(sess.run(None, {"observation": obs, "noise": 30 * np.ones((7, 2), np.float32)})[0]) <= 1)
    # The schema still refuses a package with a denoiser but no diffusion section.
    broken = json.loads(json.dumps(m))
    broken["files"]["denoiser"] = broken["files"]["critic"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_actor_policy_selects_the_best_candidate_by_the_critic():
    torch.manual_seed(3)
    spec = ActorPolicySpec(obs_dim=3, act_dim=2, hidden=16, critic_hidden=16, K=6, rule="argmax")
    policy = build_actor_policy(spec).eval()
    obs = torch.randn(4, 3)
    r = policy.sample(obs)
    q = policy.critic(obs.repeat_interleave(6, 0), r["candidates"].reshape(-1, 2)).min(dim=1).values.reshape(4, 6)
    assert torch.equal(r["index"], q.argmax(dim=1))
    torch.testing.assert_close(r["action"], r["candidates"][torch.arange(4), q.argmax(dim=1)])


def test_cli_trains_both_methods(tmp_path):
    behaviour_dataset(tmp_path / "d.npz", n=300)
    for algo, extra in (("qe_diffusion", ["--num-critics", "3", "--T", "3"]), ("dtql", ["--pretrain-steps", "5"])):
        assert main(["train", algo, "--dataset", str(tmp_path / "d.npz"), "--env", "bandit", "--run-dir",
                     str(tmp_path / algo), "--total-steps", "10", "--batch-size", "16", "--hidden", "16",
                     "--critic-hidden", "16", "--eval-episodes", "2", "--eval-sample", "4", "--threads", "1",
                     *extra]) == 0
        assert main(["export", str(tmp_path / algo), "--out", str(tmp_path / f"{algo}-pkg")]) == 0
        m = json.loads((tmp_path / f"{algo}-pkg" / "policy.json").read_text())
        assert m["algorithm"] == algo
        jsonschema.validate(m, SCHEMA)
