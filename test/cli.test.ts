// The commands users type, run as real processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { copyFixture, fixturePath } from "./helpers/fixtures.ts";

function run(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", `src/cli/${script}.ts`, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("inspect prints a package summary as JSON", () => {
  const r = run("inspect", [fixturePath("qvpo-bandit")]);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.name, "qvpo-bandit");
  assert.equal(s.algorithm, "qvpo");
  assert.equal(s.diffusion.steps, 20);
  assert.equal(s.selection.aggregation, "min");
  assert.deepEqual(Object.keys(s.files).sort(), ["critic", "denoiser", "sampler"]);
  assert.equal(s.files.sampler.sha256_verified, true);
  assert.equal(s.observation.normalized, true);
});

test("inspect --probe loads the graphs and runs them", () => {
  const r = run("inspect", [fixturePath("dql-bandit"), "--probe"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).probe.ok, true);
});

test("inspect reports a broken package with a clear error and a non-zero exit", () => {
  const dir = copyFixture("qvpo-bandit");
  const file = join(dir, "denoiser.onnx");
  writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0])]));
  const r = run("inspect", [dir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*denoiser\.onnx: SHA-256 mismatch/);
  assert.equal(run("inspect", []).status, 2);
});

test("start runs a policy at its control rate for --duration seconds", () => {
  const r = run("start", ["--policy", fixturePath("dql-bandit"), "--duration", "1.5"]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(summary.policy, "dql-bandit");
  assert.equal(summary.rate_hz, 50);
  assert.ok(summary.ticks >= 30 && summary.ticks <= 76, `ticks ${summary.ticks}`);
  assert.equal(summary.non_finite, 0);
  assert.ok(summary.latency.p50_ms > 0 && summary.latency.p50_ms <= summary.latency.p99_ms);
  assert.match(r.stdout, /running dql-bandit \(diffusion_ql, gym-bandit\/bandit\) at 50 Hz/);
});

test("bench writes one JSON record per configuration with percentiles", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "bench.json");
  const r = run("bench", ["--package", fixturePath("qvpo-bandit"), "--what", "policy", "--K", "1,4", "--ticks", "30", "--warmup", "2", "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const records = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(records.length, 4); // 2 paths x 2 K
  for (const rec of records) {
    for (const key of ["name", "obs", "act", "K", "T", "path", "threads", "p50_ms", "p99_ms", "max_ms", "n"]) assert.ok(key in rec, key);
    assert.equal(rec.n, 30);
    assert.equal(rec.T, 20);
    assert.ok(rec.p50_ms > 0 && rec.p50_ms <= rec.p99_ms && rec.p99_ms <= rec.max_ms);
  }
  assert.deepEqual(records.map((x: any) => `${x.path}/${x.K}`).sort(), ["fused/1", "fused/4", "stepwise/1", "stepwise/4"]);
  assert.match(r.stdout, /p50_ms\s+p99_ms\s+max_ms/);
});

test("bench measures the simulated H1: physics steps per second and real-time factor", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "sim.json");
  const r = run("bench", ["--what", "sim", "--sim-envs", "1,3", "--sim-steps", "20", "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const records = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(records.map((x: any) => x.name), ["sim/h1_flat/envs1", "sim/h1_flat/envs3"]);
  for (const rec of records) {
    assert.equal(rec.kind, "sim");
    assert.equal(rec.n, 20);
    assert.ok(rec.physics_steps_per_s > 0 && rec.real_time_factor > 0);
    assert.ok(rec.p50_ms <= rec.p99_ms && rec.p99_ms <= rec.max_ms);
  }
  assert.match(r.stdout, /sim\/h1_flat\/envs3: \d+ physics steps\/s, real-time factor/);
});

test("episodes plays a policy on a simulated task and reports returns and the success rate", () => {
  const out = join(mkdtempSync(join(tmpdir(), "episodes-")), "report.json");
  const r = run("episodes", ["--policy", fixturePath("h1-untrained"), "--task", "h1-walk", "--episodes", "2", "--seed", "4", "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(summary.task, "h1-walk");
  assert.equal(summary.success_bar, 700);
  assert.equal(summary.episodes, 2);
  const report = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(report.episodes.map((e: any) => e.seed), [4, 5]);
  assert.match(r.stderr, /\[2\/2\] seed \d: return/);
  assert.equal(run("episodes", []).status, 2);
});
