import assert from "node:assert/strict";
import { test } from "node:test";
import { PolicyEngine } from "../src/policy/engine.ts";
import { runEpisodes } from "../src/sim/episodes.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

test("the episode runner plays a policy package on a task for seeded episodes, in parallel worlds", async () => {
  const run = async (parallel: number) => {
    const engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger, seed: 3 });
    const seen: number[] = [];
    const report = await runEpisodes(engine, { task: "h1-stand", episodes: 3, seed: 10, parallel, onEpisode: (r) => seen.push(r.seed) });
    await engine.close();
    return { report, seen };
  };
  const { report, seen } = await run(2);
  assert.equal(report.task, "h1-stand");
  assert.equal(report.policy, "h1-untrained");
  assert.deepEqual(report.episodes.map((e) => e.seed), [10, 11, 12]);
  assert.deepEqual([...seen].sort(), [10, 11, 12], "progress reported once per episode");
  for (const e of report.episodes) {
    // An untrained policy does not stand: it falls and the episode terminates early.
    assert.equal(e.terminated, true);
    assert.ok(e.length > 5 && e.length < 1000, `length ${e.length}`);
    assert.ok(e.return > 0 && e.return < e.length, `return ${e.return}`);
  }
  assert.equal(report.success_bar, 800);
  assert.equal(report.success_rate, 0);
  const mean = report.episodes.reduce((s, e) => s + e.return, 0) / 3;
  assert.ok(Math.abs(report.mean_return - mean) < 1e-9);
  assert.equal(report.control_steps, report.episodes.reduce((s, e) => s + e.length, 0));
  assert.ok(report.real_time_factor > 0);
  // The same seeds, policy seed and number of worlds replay the same episodes.
  const again = await run(2);
  assert.deepEqual(again.report.episodes, report.episodes);
  const serial = await run(1);
  assert.deepEqual(serial.report.episodes.map((e) => e.seed), [10, 11, 12]);
});

test("the runner refuses a policy for another robot, an unknown task, no episodes", async () => {
  const engine = await PolicyEngine.load(fixturePath("qvpo-bandit"), { logger: silentLogger });
  await assert.rejects(runEpisodes(engine, { task: "h1-stand", episodes: 1 }), /is for robot "gym-bandit", not the H1/);
  await engine.close();
  const h1 = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
  await assert.rejects(runEpisodes(h1, { task: "h1-dance", episodes: 1 }), /unknown task "h1-dance"/);
  await assert.rejects(runEpisodes(h1, { task: "h1-stand", episodes: 0 }), /episodes must be a positive integer/);
  await h1.close();
});
