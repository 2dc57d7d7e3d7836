// Cross-language parity: the trainer's PyTorch sampler (vectors.json, written by the fixture script), the
// runtime's native, fused and stepwise paths pick the same actions from the same observations and noise.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PolicyEngine, maxAbsDiff } from "../src/policy/engine.ts";
import { silentLogger } from "../src/util/log.ts";
import { POLICY_FIXTURES, fixturePath, readJson } from "./helpers/fixtures.ts";

for (const name of POLICY_FIXTURES) {
  test(`${name}: PyTorch, native, fused and stepwise agree on the same noise`, async () => {
    const v = readJson(fixturePath(name, "vectors.json"));
    const obs = Float32Array.from(v.obs);
    const noise = Float32Array.from(v.noise);
    const results: Record<string, { candidates: Float32Array; scores: Float32Array; index: number[]; action: Float32Array }> = {};
    for (const path of ["native", "fused", "stepwise"] as const) {
      const engine = await PolicyEngine.load(fixturePath(name), { path, K: v.K, logger: silentLogger, crossCheck: false });
      const r = await engine.sampleWithNoise(obs, v.B, noise, v.u);
      assert.equal(r.finite, true);
      results[path] = {
        candidates: Float32Array.from(r.candidates),
        scores: Float32Array.from(r.scores),
        index: Array.from(r.index),
        action: Float32Array.from(r.action),
      };
      await engine.close();
    }
    const { native, fused, stepwise } = results;
    const torchCandidates = Float32Array.from(v.expected.candidates);
    const scale = Math.max(1, ...v.expected.scores.map(Math.abs));
    for (const [label, r] of Object.entries(results)) {
      assert.ok(maxAbsDiff(r.candidates, torchCandidates) <= 1e-4, `${label} candidates vs PyTorch: ${maxAbsDiff(r.candidates, torchCandidates)}`);
      assert.ok(maxAbsDiff(r.scores, Float32Array.from(v.expected.scores)) / scale <= 1e-4, `${label} scores vs PyTorch`);
      assert.deepEqual(r.index, v.expected.index, `${label} chose other candidates than PyTorch`);
      assert.ok(maxAbsDiff(r.action, Float32Array.from(v.expected.action)) <= 1e-4, `${label} action vs PyTorch`);
    }
    assert.ok(maxAbsDiff(fused.candidates, stepwise.candidates) <= 1e-5, `fused vs stepwise: ${maxAbsDiff(fused.candidates, stepwise.candidates)}`);
    assert.ok(maxAbsDiff(fused.scores, stepwise.scores) / scale <= 1e-5);
    assert.deepEqual(fused.index, stepwise.index);
    assert.ok(maxAbsDiff(native.candidates, fused.candidates) <= 1e-5, `native vs fused: ${maxAbsDiff(native.candidates, fused.candidates)}`);
    assert.ok(maxAbsDiff(native.scores, fused.scores) / scale <= 1e-5);
    assert.deepEqual(native.index, fused.index);
  });
}

test("the fused graph's own pick is the argmax candidate, and noise makes a tick reproducible", async () => {
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, seed: 7 });
  const obs = Float32Array.from([0.3, -0.5]);
  const a = Float32Array.from((await engine.sample(obs)).action);
  const b = Float32Array.from((await engine.sample(obs)).action);
  assert.notDeepEqual(a, b, "fresh noise each tick");
  const again = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, seed: 7, crossCheck: false });
  assert.deepEqual(Float32Array.from((await again.sample(obs)).action), a, "same seed, same first action");
  await engine.close();
  await again.close();
});

test("batched observations give each observation its own K candidates", async () => {
  const engine = await PolicyEngine.load(fixturePath("dql-bandit"), { logger: silentLogger, K: 4, crossCheck: false });
  const v = readJson(fixturePath("dql-bandit", "vectors.json"));
  const T = engine.manifest.diffusion!.steps;
  const A = engine.manifest.action.size;
  const B = 3;
  const K = 4;
  const obs = Float32Array.from(v.obs);
  const noise = new Float32Array((T + 1) * B * K * A).map((_, i) => Math.sin(i));
  const batched = await engine.sampleWithNoise(obs, B, noise, [0.1, 0.5, 0.9]);
  const batchedCandidates = Float32Array.from(batched.candidates);
  for (let b = 0; b < B; b++) {
    // The same observation alone, with its slice of the noise, gives the same candidates.
    const single = new Float32Array((T + 1) * K * A);
    for (let s = 0; s <= T; s++) single.set(noise.subarray((s * B * K + b * K) * A, (s * B * K + (b + 1) * K) * A), s * K * A);
    const r = await engine.sampleWithNoise(obs.subarray(b * 2, b * 2 + 2), 1, single, [0.5]);
    assert.ok(maxAbsDiff(r.candidates, batchedCandidates.subarray(b * K * A, (b + 1) * K * A)) <= 1e-6);
  }
  await engine.close();
});

test("a call's noise depends on its number, not on when it was drawn (ahead, between calls, or during the call)", async () => {
  const load = () => PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, seed: 11, crossCheck: false });
  const obs = Float32Array.from([0.1, 0.2]);
  const hurried = await load();
  const idle = await load();
  const a: number[][] = [];
  const b: number[][] = [];
  for (let i = 0; i < 4; i++) {
    a.push(Array.from((await hurried.sample(obs)).action)); // back to back: no idle time to draw ahead
    b.push(Array.from((await idle.sample(obs)).action));
    await new Promise((r) => setImmediate(r)); // idle: the next draws are made ahead
    if (i === 1) idle.setK(8); // a K change between calls: the drawn-ahead set is for the old K
    if (i === 1) hurried.setK(8);
  }
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], a[1]);
  await hurried.close();
  await idle.close();
});
