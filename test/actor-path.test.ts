// The one-step (actor) path of a DTQL package, and selection by the lower confidence bound of an exported
// critic ensemble (the Q-ensemble method): both against what the trainer's PyTorch code computed.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { PolicyEngine, maxAbsDiff } from "../src/policy/engine.ts";
import { PolicyPackageError } from "../src/policy/manifest.ts";
import { readPolicyPackage } from "../src/policy/package.ts";
import { availablePaths } from "../src/policy/samplers.ts";
import { softmaxDraw } from "../src/policy/selection.ts";
import { silentLogger } from "../src/util/log.ts";
import { copyFixture, editManifest, fixturePath, readJson } from "./helpers/fixtures.ts";

test("dtql-bandit: a one-step package runs on the actor path by default, as PyTorch computed it", async () => {
  const pkg = readPolicyPackage(fixturePath("dtql-bandit"));
  assert.equal(pkg.manifest.diffusion, undefined);
  assert.deepEqual(availablePaths(pkg.manifest), ["actor"]);
  const v = readJson(fixturePath("dtql-bandit", "vectors.json"));
  const engine = await PolicyEngine.load(fixturePath("dtql-bandit"), { logger: silentLogger, K: v.K });
  assert.equal(engine.path, "actor");
  assert.equal(v.noise.length, v.B * v.K * engine.manifest.action.size, "one noise slice, no denoising steps");
  const r = await engine.sampleWithNoise(Float32Array.from(v.obs), v.B, Float32Array.from(v.noise), v.u);
  assert.equal(r.finite, true);
  assert.equal(r.steps, 1);
  assert.ok(maxAbsDiff(r.candidates, Float32Array.from(v.expected.candidates)) <= 1e-5, "candidates vs PyTorch");
  const scale = Math.max(1, ...v.expected.scores.map(Math.abs));
  assert.ok(maxAbsDiff(r.scores, Float32Array.from(v.expected.scores)) / scale <= 1e-5, "critic scores vs PyTorch");
  assert.deepEqual(Array.from(r.index), v.expected.index);
  assert.ok(maxAbsDiff(r.action, Float32Array.from(v.expected.action)) <= 1e-5);
  await engine.close();
});

test("dtql-bandit: best-of-K with the critic, fresh noise per call, reproducible from the seed", async () => {
  const load = () => PolicyEngine.load(fixturePath("dtql-bandit"), { logger: silentLogger, K: 8, seed: 5 });
  const engine = await load();
  const obs = Float32Array.from([0.4, -0.2, -0.7, 0.1]);
  const first = await engine.sample(obs, 2);
  assert.equal(first.candidates.length, 2 * 8 * 2);
  assert.ok(first.candidates.every((x) => x >= -1 && x <= 1));
  const a = Float32Array.from(first.action);
  const b = Float32Array.from((await engine.sample(obs, 2)).action);
  assert.notDeepEqual(a, b, "a stochastic actor: new noise, new candidates");
  const again = await load();
  assert.deepEqual(Float32Array.from((await again.sample(obs, 2)).action), a);
  await engine.close();
  await again.close();
  // Best-of-K: with the argmax rule the engine keeps the candidate the critic scores highest.
  const dir = copyFixture("dtql-bandit");
  editManifest(dir, (m) => {
    m.selection.rule = "argmax";
  });
  const greedy = await PolicyEngine.load(dir, { logger: silentLogger, K: 64 });
  const r = await greedy.sample(obs, 2);
  for (let b = 0; b < 2; b++) {
    const row = Array.from(r.scores.subarray(b * 64, (b + 1) * 64));
    assert.equal(r.index[b], row.indexOf(Math.max(...row)));
  }
  await greedy.close();
});

test("the diffusion paths refuse a package without a diffusion section, and an actor without a critic still runs", async () => {
  await assert.rejects(
    PolicyEngine.load(fixturePath("dtql-bandit"), { logger: silentLogger, path: "stepwise" }),
    (err: Error) => err instanceof PolicyPackageError && /\/diffusion/.test(err.message),
  );
  const dir = copyFixture("dtql-bandit");
  editManifest(dir, (m) => {
    delete m.files.critic;
    m.selection.K = 1;
  });
  const engine = await PolicyEngine.load(dir, { logger: silentLogger });
  const r = await engine.sampleWithNoise(Float32Array.from([0.3, 0.3]), 1, new Float32Array(2));
  assert.deepEqual(Array.from(r.scores), [0]);
  assert.ok(r.finite && Math.abs(r.action[0]) < 1);
  await engine.close();
});

test("qe-bandit: the runtime scores candidates by mean - beta * std over the exported ensemble", async () => {
  const v = readJson(fixturePath("qe-bandit", "vectors.json"));
  const engine = await PolicyEngine.load(fixturePath("qe-bandit"), { logger: silentLogger, path: "stepwise", K: v.K, crossCheck: false });
  const m = engine.manifest;
  assert.equal(m.selection.aggregation, "lcb");
  const M = m.critic.members;
  const beta = m.selection.beta;
  assert.ok(M >= 5 && beta > 0);
  const r = await engine.sampleWithNoise(Float32Array.from(v.obs), v.B, Float32Array.from(v.noise), v.u);
  const N = v.B * v.K;
  const O = m.observation.size;
  const A = m.action.size;
  const obsRep = new Float32Array(N * O);
  for (let i = 0; i < N; i++) obsRep.set(v.obs.slice(Math.floor(i / v.K) * O, (Math.floor(i / v.K) + 1) * O), i * O);
  // The ensemble's members for each candidate, straight from critic.onnx.
  const critic = await ort.InferenceSession.create(fixturePath("qe-bandit", "critic.onnx"));
  const q = (
    await critic.run({
      observation: new ort.Tensor("float32", obsRep, [N, O]),
      action: new ort.Tensor("float32", Float32Array.from(r.candidates), [N, A]),
    })
  ).q.data as Float32Array;
  const lcb = new Float32Array(N);
  const mean = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const row = Array.from(q.subarray(i * M, (i + 1) * M));
    mean[i] = row.reduce((s, x) => s + x, 0) / M;
    const std = Math.sqrt(row.reduce((s, x) => s + (x - mean[i]) ** 2, 0) / (M - 1));
    lcb[i] = mean[i] - beta * std;
  }
  assert.ok(maxAbsDiff(r.scores, lcb) <= 1e-5, `scores are the LCB: ${maxAbsDiff(r.scores, lcb)}`);
  assert.ok(maxAbsDiff(r.scores, mean) > 1e-3, "and not the mean: the ensemble's spread matters");
  for (let b = 0; b < v.B; b++) assert.equal(r.index[b], softmaxDraw(lcb, b * v.K, v.K, m.selection.temperature, v.u[b]));
  assert.deepEqual(Array.from(r.index), v.expected.index, "the same picks as PyTorch");
  await critic.release();
  await engine.close();
});
