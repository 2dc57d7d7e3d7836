// Deadline-aware sampling: the degradation ladder, the governor's decisions on simulated timings, the DDIM
// sampler on a trained package (quality and its anytime cut), and the engine degrading under a budget.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ddimTimesteps } from "../src/policy/ddim.ts";
import { DeadlineGovernor, degradationLadder, type DegradationLevel } from "../src/policy/deadline.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { SeededNormal } from "../src/policy/noise.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

test("the ladder: fewer candidates, then fewer DDIM steps, then the actor", () => {
  assert.deepEqual(
    degradationLadder(32, 20, true).map((l) => l.name),
    ["K32xT20", "K16xT20", "K8xT20", "K4xT20", "K2xT20", "K1xT20", "ddim K1xS15", "ddim K1xS12", "ddim K1xS10", "actor K1"],
  );
  assert.deepEqual(degradationLadder(5, 5, false).map((l) => l.name), ["K5xT5", "K2xT5", "K1xT5", "ddim K1xS4", "ddim K1xS3"]);
  assert.deepEqual(degradationLadder(2, 20, false, 4).map((l) => l.steps), [20, 20, 15, 12, 9, 7, 6, 5, 4]);
  assert.throws(() => degradationLadder(2, 20, false, 0), /positive integer/);
  assert.deepEqual(degradationLadder(1, 1, false).map((l) => l.name), ["K1xT1"]);
  degradationLadder(32, 20, true).forEach((l, i) => assert.equal(l.rank, i));
});

test("DDIM timesteps: evenly spaced from the last trained step down to 0", () => {
  assert.deepEqual(ddimTimesteps(20, 20), Array.from({ length: 20 }, (_, i) => 19 - i));
  assert.deepEqual(ddimTimesteps(20, 5), [19, 14, 10, 5, 0]);
  assert.deepEqual(ddimTimesteps(20, 1), [19]);
  assert.throws(() => ddimTimesteps(20, 21), /1\.\.20/);
  assert.throws(() => ddimTimesteps(20, 0), /1\.\.20/);
});

/** Simulated call times: a fixed part plus a part per denoiser evaluation, times the machine's slowness. */
function callTime(level: DegradationLevel, slowness: number): number {
  return slowness * (0.3 + 0.005 * level.K * level.steps);
}

test("the governor steps down under load within a few calls and climbs back when it ends", () => {
  const ladder = degradationLadder(32, 20, false);
  const budget = 4;
  const g = new DeadlineGovernor(ladder, budget, { climbAfter: 20 });
  const trace: { rank: number; ms: number }[] = [];
  const slowness = (i: number) => (i >= 100 && i < 300 ? 6 : 1); // contention for 200 calls
  for (let i = 0; i < 600; i++) {
    const ms = callTime(g.level, slowness(i));
    trace.push({ rank: g.level.rank, ms });
    g.observe(ms);
  }
  assert.ok(trace.slice(0, 100).every((c) => c.rank === 0), "K32xT20 (3.5 ms) fits the budget unloaded");
  const loaded = trace.slice(100, 300);
  const over = loaded.filter((c) => c.ms > budget).length;
  // only the calls that reveal the load (3 of the last 8) and the cost model's misses on the way down run over
  assert.ok(over <= 6, `${over} calls over budget under load`);
  assert.ok(loaded.slice(10).every((c) => c.ms <= budget), "settled under load within 10 calls");
  assert.ok(loaded.slice(-1)[0].rank > 0, "degraded under load");
  assert.ok(trace.slice(300).filter((c) => c.ms > budget).length <= 3, "climbing back overshoots rarely");
  assert.equal(trace.at(-1)!.rank, 0, "back to the undegraded sampler after the load");
});

test("the governor does not oscillate between two levels at a steady load", () => {
  const g = new DeadlineGovernor(degradationLadder(32, 20, false), 4, { climbAfter: 10 });
  const ranks: number[] = [];
  for (let i = 0; i < 500; i++) {
    ranks.push(g.level.rank);
    g.observe(callTime(g.level, 2.5));
  }
  const changes = ranks.slice(100).filter((r, i, a) => i > 0 && r !== a[i - 1]).length;
  assert.equal(changes, 0, `level changed ${changes} times at a steady load: ${ranks.slice(100, 130)}`);
});

test("a lone spike does not degrade; a lasting slowdown does", () => {
  const g = new DeadlineGovernor(degradationLadder(32, 20, false), 4);
  for (let i = 0; i < 40; i++) g.observe(i % 10 === 5 ? 30 : 3); // one call in ten 10x slower
  assert.equal(g.level.rank, 0);
  for (let i = 0; i < 3; i++) g.observe(9);
  assert.ok(g.level.rank > 0, "three slow calls in the last eight");
});

test("the governor rejects a bad budget and ends at the last level when nothing fits", () => {
  assert.throws(() => new DeadlineGovernor(degradationLadder(4, 4, false), 0), /budget must be > 0/);
  const ladder = degradationLadder(4, 4, false);
  const g = new DeadlineGovernor(ladder, 0.01);
  for (let i = 0; i < 5; i++) g.observe(callTime(g.level, 1));
  assert.equal(g.level.rank, ladder.length - 1);
});

test("DDIM over the trained package: every step or a quarter of them scores like the full sampler; a passed deadline runs one step", async () => {
  const full = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger });
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, budgetMs: 1000 });
  const ddim = (engine as any).ddim;
  assert.ok(ddim, "the package has a denoiser and a critic: DDIM is available");
  const m = engine.manifest;
  const K = 64;
  const rng = new SeededNormal(3);
  const obs = rng.fill(new Float32Array(4 * m.observation.size));
  const noise = rng.fill(new Float32Array((m.diffusion!.steps + 1) * 4 * K * m.action.size));
  const meanScore = (s: Float32Array) => s.reduce((a, b) => a + b, 0) / s.length;
  full.setK(K);
  const reference = meanScore(Float32Array.from((await full.sampleWithNoise(obs, 4, noise)).scores));
  const oneStep = meanScore(Float32Array.from((await ddim.run(obs, 4, K, noise, 1)).scores)); // the scale's low end
  for (const S of [20, 5]) {
    const b = await ddim.run(obs, 4, K, noise, S);
    assert.equal(b.stepsRun, S);
    assert.ok(b.candidates.every((v: number) => v >= -1 && v <= 1));
    const score = meanScore(b.scores);
    // the full sampler's candidates score higher than one step's; DDIM with S >= 5 steps comes close to it
    assert.ok(reference > oneStep, `full ${reference} vs one step ${oneStep}`);
    assert.ok(score > oneStep + 0.5 * (reference - oneStep), `DDIM S=${S}: ${score}, full ${reference}, one step ${oneStep}`);
  }
  const cut = await ddim.run(obs, 4, K, noise, 20, 0);
  assert.equal(cut.stepsRun, 1, "a deadline in the past: one step, then the critic");
  await full.close();
  await engine.close();
});

test("the engine degrades to fit its budget and says so in every sample", async () => {
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, budgetMs: 1e-3 });
  const obs = new Float32Array(engine.manifest.observation.size).fill(0.2);
  const levels: string[] = [];
  for (let i = 0; i < 8; i++) {
    const s = await engine.sample(obs);
    assert.ok(s.finite && s.level);
    assert.equal(s.K, s.level!.K);
    levels.push(s.level!.name);
  }
  assert.equal(levels[0], "K16xT20");
  assert.equal(levels.at(-1), "ddim K1xS10", `levels: ${levels}`); // half the trained steps: the default floor
  await engine.close();
  const relaxed = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger, budgetMs: 10_000 });
  for (let i = 0; i < 5; i++) assert.equal((await relaxed.sample(obs)).level!.rank, 0);
  await relaxed.close();
  const off = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger });
  assert.equal((await off.sample(obs)).level, null);
  await off.close();
});

test("a one-step (actor) package degrades by candidates only", async () => {
  const engine = await PolicyEngine.load(fixturePath("dtql-bandit"), { logger: silentLogger, budgetMs: 1e-3 });
  const obs = new Float32Array(engine.manifest.observation.size).fill(0.2);
  const K = engine.candidatesPerObservation;
  const first = await engine.sample(obs);
  assert.equal(first.level!.name, `actor K${K}`);
  const last = await engine.sample(obs);
  assert.equal(last.level!.name, "actor K1");
  assert.ok(last.finite && last.steps === 1);
  await engine.close();
});

test("bench deadline: a paced run beside a CPU hog reports calls, misses and levels", async () => {
  const { measureDeadline } = await import("../src/bench/deadline.ts");
  const r = await measureDeadline(fixturePath("qvpo-bandit"), 1, 1, 1000);
  assert.equal(r.kind, "deadline");
  assert.equal(r.n, 50, "one second at 50 Hz");
  assert.equal(r.deadline_ms, 20);
  assert.deepEqual(r.levels, { K16xT20: 50 }, "a budget this large never degrades");
  assert.ok(r.p50_ms > 0 && r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
  assert.ok(r.deadline_misses >= 0 && r.deadline_misses <= r.n);
  assert.ok(r.threads >= 1, "the runtime's default threads");
  if (r.threads === 2) assert.ok(r.helper_share !== null && r.helper_share >= 0 && r.helper_share <= 1);
  else assert.equal(r.helper_share, null);
  const tight = await measureDeadline(fixturePath("qvpo-bandit"), 0.5, 0, 1e-3);
  assert.equal(tight.worst_level, "ddim K1xS10");
});
