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
  assert.equal(s.native_sampler.path, "weights.f32");
  assert.equal(s.native_sampler.output, "epsilon");
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

test("start runs the control node on the simulated H1: start-up sequence, policy, episodes", () => {
  const r = run("start", ["--policy", fixturePath("h1-untrained"), "--duration", "2"]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(summary.policy, "h1-untrained");
  assert.equal(summary.rate_hz, 50);
  assert.equal(summary.ticks, 100);
  assert.ok(summary.tick_latency.p50_ms > 0 && summary.tick_latency.p50_ms <= summary.tick_latency.p99_ms);
  // passive -> stand-up -> hold -> policy, then the untrained policy falls and the tilt watchdog acts.
  assert.match(summary.safety_events[0], /passive -> standup \(start-up sequence\)/);
  assert.match(summary.safety_events[1], /standup -> hold \(stand-up complete\)/);
  assert.match(summary.safety_events[2], /hold -> policy \(start-up sequence\)/);
  assert.ok(summary.safety_events.some((e: string) => /policy -> damping \(torso tilted/.test(e)));
  assert.match(r.stdout, /driving the simulated H1 \(h1-stand, lockstep\) at 50 Hz/);
});

test("start refuses a policy for another robot with a clear error", () => {
  const r = run("start", ["--policy", fixturePath("dql-bandit"), "--duration", "1"]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /is for robot "gym-bandit", this node drives the H1/);
});

test("eval plays seeded episodes through the control loop and writes the report", () => {
  const out = join(mkdtempSync(join(tmpdir(), "eval-")), "eval.json");
  const r = run("eval", ["--policy", fixturePath("h1-untrained"), "--task", "h1-stand", "--episodes", "2", "--seed", "7", "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(report.policy, "h1-untrained");
  assert.equal(report.task, "h1-stand");
  assert.equal(report.mode, "lockstep");
  assert.deepEqual(report.episodes.map((e: any) => e.seed), [7, 8]);
  // An untrained policy falls (or, damped by the supervisor, ends the episode kneeling at the step limit).
  for (const e of report.episodes) {
    assert.ok(e.return > 0 && e.return < 100, `return ${e.return}`);
    assert.ok(e.length > 0 && e.length <= 1000 && typeof e.terminated === "boolean");
  }
  assert.equal(report.success_bar, 800);
  assert.equal(report.success_rate, 0);
  assert.ok(report.safety_events.some((e: any) => e.to === "damping"));
  // Lockstep is reproducible: the same seeds give the same episodes.
  const again = join(mkdtempSync(join(tmpdir(), "eval-")), "eval.json");
  run("eval", ["--policy", fixturePath("h1-untrained"), "--episodes", "2", "--seed", "7", "--json", again]);
  assert.deepEqual(JSON.parse(readFileSync(again, "utf8")).episodes, report.episodes);
});

test("a short soak sends no command outside the limits", () => {
  const r = run("soak", ["--policy", fixturePath("h1-untrained"), "--minutes", "0.5"]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.equal(report.ticks, 1500);
  assert.equal(report.commands_audited, 1500);
  assert.equal(report.commands_outside_limits, 0);
  assert.ok(report.telemetry_bytes_serialized > 0 && report.episodes_finished > 0);
});

test("bench writes one JSON record per configuration with percentiles", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "bench.json");
  const r = run("bench", ["--package", fixturePath("qvpo-bandit"), "--what", "policy", "--K", "1,4", "--ticks", "30", "--warmup", "2", "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const records = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(records.length, 6); // 3 paths x 2 K
  for (const rec of records) {
    for (const key of ["name", "obs", "act", "K", "T", "path", "threads", "p50_ms", "p99_ms", "max_ms", "n"]) assert.ok(key in rec, key);
    assert.equal(rec.n, 30);
    assert.equal(rec.T, 20);
    assert.ok(rec.p50_ms > 0 && rec.p50_ms <= rec.p99_ms && rec.p99_ms <= rec.max_ms);
  }
  assert.deepEqual(records.map((x: any) => `${x.path}/${x.K}`).sort(), ["fused/1", "fused/4", "native/1", "native/4", "stepwise/1", "stepwise/4"]);
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

test("bench measures tick start jitter with the API idle and loaded from a second process", () => {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "jitter.json");
  const r = run("bench", ["--what", "jitter", "--jitter-s", "1.5", "--ws-clients", "4", "--jitter-policy", fixturePath("h1-untrained"), "--json", out]);
  assert.equal(r.status, 0, r.stderr);
  const [idle, loaded] = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(idle.name, "jitter/api-idle");
  assert.equal(loaded.name, "jitter/api-loaded");
  for (const rec of [idle, loaded]) {
    assert.equal(rec.n, 75);
    assert.ok(rec.p50_ms <= rec.p99_ms && rec.p99_ms <= rec.max_ms);
  }
  assert.equal(loaded.ws_clients, 4);
  assert.ok(loaded.ws_frames > 50 && loaded.http_requests > 10, `${loaded.ws_frames} frames, ${loaded.http_requests} requests`);
});
