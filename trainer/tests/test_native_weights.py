import hashlib
import importlib.util
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch

from dptrain import export as export_mod
from dptrain.fast_sampler import FastSampler
from dptrain.native_weights import (chain_constants, native_weight_tensors, read_native_weights, reference_candidates,
                                    reference_q, write_native_weights)
from dptrain.policy import PolicySpec, build_policy

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "policy-package.schema.json").read_text())
DEPLOYMENT = {"robot": "test", "task": "unit", "control_rate_hz": 50.0,
              "observation_terms": [{"name": "a", "size": 3, "sim_only": False}, {"name": "b", "size": 2, "sim_only": True}],
              "joints": ["j0", "j1"], "action_mapping": {"target": "position", "offset": [0.0, 0.1], "scale": [1.0, 0.5]},
              "pd_gains": {"kp": [10.0, 20.0], "kd": [1.0, 2.0]}}


def trained_like(spec: PolicySpec):
    """A small policy with non-zero biases everywhere (a fresh one has zero biases, which would hide a bias
    read from the wrong place)."""
    torch.manual_seed(0)
    policy = build_policy(spec).eval()
    with torch.no_grad():
        for m in policy.diffusion.denoiser.modules():
            if isinstance(m, torch.nn.Linear):
                m.bias.normal_(0.0, 0.3)
        for layer in policy.critic.layers:
            layer.bias.normal_(0.0, 0.3)
    return policy


def inputs(spec: PolicySpec, B: int = 3, K: int = 5, seed: int = 4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, spec.obs_dim, generator=g), torch.randn(spec.T + 1, B * K, spec.act_dim, generator=g)


SPECS = {
    "epsilon": PolicySpec(obs_dim=7, act_dim=3, hidden=32, t_hidden=16, critic_hidden=16, T=8, K=5),
    "x0": PolicySpec(obs_dim=7, act_dim=3, hidden=32, t_hidden=16, critic_hidden=16, T=5, K=5, schedule="vp",
                     prediction="x0", layers=4),
    "epsilon-noclip": PolicySpec(obs_dim=5, act_dim=2, hidden=16, t_hidden=16, critic_hidden=16, T=6, K=4,
                                 layers=2, clip_x0=None, variance="beta", noise_ratio=0.5),
}


def test_file_layout_order_shapes_and_sha(tmp_path):
    spec = SPECS["x0"]  # layers 4: three hidden layers
    policy = trained_like(spec)
    section = write_native_weights(policy, tmp_path)
    A, O, H, T, L = 3, 7, 32, 5, 3
    M, Hc, Lc = 2, 16, 2  # the twin critic, 3 x 16
    names = ["first.action", "first.observation", "first.step_bias"]
    names += [n for i in range(L) for n in (f"hidden.{i}.weight", f"hidden.{i}.bias")] + ["out.weight", "out.bias"]
    shapes = [[A, H], [O, H], [T, H]] + [s for _ in range(L) for s in ([H, H], [H])] + [[H, A], [A]]
    for m in range(M):
        names += [f"critic.{m}.first.observation", f"critic.{m}.first.action", f"critic.{m}.first.bias"]
        names += [n for i in range(Lc) for n in (f"critic.{m}.hidden.{i}.weight", f"critic.{m}.hidden.{i}.bias")]
        names += [f"critic.{m}.out.weight", f"critic.{m}.out.bias"]
        shapes += [[O, Hc], [A, Hc], [Hc]] + [s for _ in range(Lc) for s in ([Hc, Hc], [Hc])] + [[Hc, 1], [1]]
    assert section["tensors"] == [{"name": n, "shape": s} for n, s in zip(names, shapes)]
    assert (section["path"], section["activation"], section["hidden"], section["hidden_layers"], section["output"],
            section["critic_hidden"], section["critic_hidden_layers"]) == ("weights.f32", "mish", H, L, "x0", Hc, Lc)
    data = (tmp_path / "weights.f32").read_bytes()
    assert len(data) == 4 * sum(int(np.prod(s)) for s in shapes)
    assert section["sha256"] == hashlib.sha256(data).hexdigest()
    # the values, little-endian float32 at their offsets: W stored [in, out], the per-step bias is FastSampler's c1
    flat = np.frombuffer(data, dtype="<f4")
    den, fast = policy.diffusion.denoiser, FastSampler(policy)
    first, out = den.trunk[0], den.trunk[-1]
    np.testing.assert_array_equal(flat[:A * H].reshape(A, H), first.weight[:, :A].t().detach().numpy())
    np.testing.assert_array_equal(flat[A * H:(A + O) * H].reshape(O, H), first.weight[:, -O:].t().detach().numpy())
    np.testing.assert_array_equal(flat[(A + O) * H:(A + O + T) * H].reshape(T, H),
                                  torch.cat(fast.c1).detach().numpy())
    w = read_native_weights(section, tmp_path)
    np.testing.assert_array_equal(w["out.bias"], out.bias.detach().numpy())  # unscaled
    np.testing.assert_array_equal(w["out.weight"], out.weight.t().detach().numpy())
    np.testing.assert_array_equal(w["hidden.1.weight"], den.trunk[4].weight.t().detach().numpy())
    np.testing.assert_array_equal(w["hidden.2.bias"], den.trunk[6].bias.detach().numpy())
    critic = policy.critic.layers  # EnsembleLinear: weight [M, in, out] over cat([obs, action])
    np.testing.assert_array_equal(w["critic.1.first.observation"], critic[0].weight[1, :O].detach().numpy())
    np.testing.assert_array_equal(w["critic.1.first.action"], critic[0].weight[1, O:].detach().numpy())
    np.testing.assert_array_equal(w["critic.0.hidden.1.bias"], critic[2].bias[0, 0].detach().numpy())
    np.testing.assert_array_equal(w["critic.1.out.weight"], critic[3].weight[1].detach().numpy())
    np.testing.assert_array_equal(flat[-1:], critic[3].bias[1, 0].detach().numpy())  # the file ends with it
    assert [n for n, _ in native_weight_tensors(policy)] == names


@pytest.mark.parametrize("kind", list(SPECS))
def test_reference_over_the_file_reproduces_the_policy(tmp_path, kind):
    spec = SPECS[kind]
    policy = trained_like(spec)
    section = write_native_weights(policy, tmp_path)
    assert section["output"] == spec.prediction
    obs, noise = inputs(spec)
    got = reference_candidates(section, tmp_path, obs.numpy(), noise.numpy(), **chain_constants(policy.diffusion))
    with torch.no_grad():
        _, want, _ = policy(obs, noise)  # the straightforward graph (DiffusionPolicy.forward)
        _, fast, _ = FastSampler(policy).eval()(obs, noise)
    assert got.shape == (15, spec.act_dim) and np.abs(got).max() > 0.05  # not all clipped or zero
    np.testing.assert_allclose(got, want.reshape(got.shape).numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(got, fast.reshape(got.shape).numpy(), atol=1e-5, rtol=0)
    # policy.sample on raw observations (no normaliser here) gives the same candidates from the same noise
    with torch.no_grad():
        sampled = policy.sample(obs, noise=noise)
    np.testing.assert_allclose(got, sampled["candidates"].reshape(got.shape).numpy(), atol=1e-5, rtol=0)
    # the critic members' values of the candidates
    q = reference_q(section, tmp_path, obs.numpy(), got, policy.critic.members)
    with torch.no_grad():
        want_q = policy.critic(obs.repeat_interleave(5, dim=0), torch.from_numpy(got)).numpy()
    assert q.shape == (15, 2) and np.abs(want_q).max() > 0.01
    np.testing.assert_allclose(q, want_q, atol=1e-5, rtol=1e-5)


def test_a_corrupted_value_makes_the_reference_disagree(tmp_path):
    spec = SPECS["epsilon"]
    policy = trained_like(spec)
    section = write_native_weights(policy, tmp_path)
    obs, noise = inputs(spec)
    with torch.no_grad():
        want = FastSampler(policy).eval()(obs, noise)[1].reshape(15, spec.act_dim).numpy()
    path = tmp_path / "weights.f32"
    flat = np.frombuffer(path.read_bytes(), dtype="<f4").copy()
    end = [t["name"] for t in section["tensors"]].index("out.bias")
    offset = sum(int(np.prod(t["shape"])) for t in section["tensors"][:end])  # out.bias[1]
    flat[offset + 1] += 0.5
    path.write_bytes(flat.tobytes())
    with pytest.raises(ValueError, match="sha256"):
        read_native_weights(section, tmp_path)
    corrupted = {**section, "sha256": hashlib.sha256(flat.tobytes()).hexdigest()}
    got = reference_candidates(corrupted, tmp_path, obs.numpy(), noise.numpy(), **chain_constants(policy.diffusion))
    assert np.abs(got - want).max() > 1e-2
    path.write_bytes(flat[:-1].tobytes())  # a truncated file
    with pytest.raises(ValueError, match="bytes"):
        read_native_weights({**section, "sha256": hashlib.sha256(flat[:-1].tobytes()).hexdigest()}, tmp_path)


@pytest.mark.parametrize("kw", [{}, {"schedule": "vp", "prediction": "x0", "normalize": True}])
def test_export_writes_the_file_and_a_valid_section(tmp_path, kw):
    spec = PolicySpec(obs_dim=5, act_dim=2, hidden=16, t_hidden=16, critic_hidden=16, T=6, K=4, **kw)
    policy = trained_like(spec)
    m = export_mod.export_policy(policy, spec, DEPLOYMENT, tmp_path, "unit", {"algorithm": "qvpo", "seed": 0, "steps": 0},
                                 sampler_graph="straightforward")
    jsonschema.validate(m, SCHEMA)
    assert json.loads((tmp_path / "policy.json").read_text()) == m
    ns = m["native_sampler"]
    assert list(m).index("native_sampler") == list(m).index("provenance") - 1
    assert ns["sha256"] == export_mod.sha256(tmp_path / "weights.f32")
    assert ns["output"] == spec.prediction and m["diffusion"]["prediction"] == "epsilon"
    assert m["provenance"]["export_max_diff"]["native_sampler"] <= 1e-5
    # the section is what the schema checks: a wrong one fails
    for bad in ({**ns, "output": "v"}, {**ns, "activation": "relu"}, {**ns, "sha256": "x"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**m, "native_sampler": bad}, SCHEMA)


def test_add_native_weights_checks_the_checkpoint_and_keeps_the_manifest(tmp_path):
    spec = PolicySpec(obs_dim=5, act_dim=2, hidden=16, t_hidden=16, critic_hidden=16, T=6, K=4, normalize=True)
    policy = trained_like(spec)
    pkg = tmp_path / "pkg"
    export_mod.export_policy(policy, spec, DEPLOYMENT, pkg, "unit", {"algorithm": "qvpo", "seed": 0, "steps": 0})
    m = json.loads((pkg / "policy.json").read_text())
    del m["native_sampler"]
    (pkg / "weights.f32").unlink()
    (pkg / "policy.json").write_text(json.dumps(m, indent=2))  # an old package, no trailing newline
    torch.save({"spec": spec.__dict__, "policy": policy.state_dict()}, tmp_path / "best.pt")
    script = importlib.util.spec_from_file_location("add_native_weights", ROOT / "trainer" / "scripts" / "add_native_weights.py")
    mod = importlib.util.module_from_spec(script)
    script.loader.exec_module(mod)
    summary = mod.add_native_weights(tmp_path, pkg)
    assert summary["sampler_onnx_vs_fast_sampler"] <= 1e-5 and summary["native_reference_vs_fast_sampler"] <= 1e-5
    text = (pkg / "policy.json").read_text()
    new = json.loads(text)
    assert not text.endswith("\n")
    jsonschema.validate(new, SCHEMA)
    ns = new.pop("native_sampler")
    assert new == m and list(new) == list(m)
    assert ns["sha256"] == export_mod.sha256(pkg / "weights.f32")
    # another checkpoint: refused, the package untouched
    other = trained_like(spec)
    with torch.no_grad():
        other.diffusion.denoiser.trunk[-1].bias += 0.1
    torch.save({"spec": spec.__dict__, "policy": other.state_dict()}, tmp_path / "best.pt")
    with pytest.raises(mod.Refused, match="not the checkpoint"):
        mod.add_native_weights(tmp_path, pkg)
    assert (pkg / "policy.json").read_text() == text
    # the same denoiser with another critic: refused too (the scores tell)
    other = trained_like(spec)
    with torch.no_grad():
        other.critic.layers[1].bias += 0.1
    torch.save({"spec": spec.__dict__, "policy": other.state_dict()}, tmp_path / "best.pt")
    with pytest.raises(mod.Refused, match="candidates or scores"):
        mod.add_native_weights(tmp_path, pkg)
