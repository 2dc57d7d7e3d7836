// npm run soak -- [--minutes 60] [--policy models/NAME] [--json FILE]
// A soak run: minutes of *simulated* time through the control loop in lockstep (episodes restart when they
// end), with telemetry consumers attached (one serialises every tick record as a WebSocket client would,
// one aggregates latencies), and an audit of every command sent against the limits. Reports resident
// memory at the start and the end, and the number of commands outside the limits (must be 0).
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { engineOptions, loadConfig } from "../config/config.ts";
import { ControlNode } from "../control/node.ts";
import { SimLink } from "../link/sim-link.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { commandViolations } from "../safety/filter.ts";
import type { MotorCommand } from "../sim/h1-sim.ts";
import { silentLogger } from "../util/log.ts";
import { LatencyHistogram } from "../util/stats.ts";

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string", default: "60" },
      policy: { type: "string" },
      config: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      json: { type: "string" },
    },
  });
  const overrides = [...values.set!];
  if (values.policy) overrides.push(`policy.path=${values.policy}`);
  const config = loadConfig({ file: values.config ?? "config/sim.yaml", overrides });
  const engine = await PolicyEngine.load(config.policy.path, { ...engineOptions(config), logger: silentLogger });
  const link = await SimLink.create(config.link.sim.task, config.link.sim.seed);
  const node = new ControlNode({ config, link, logger: silentLogger, engine });
  // Every command that reaches the simulated robot is audited against the limits first.
  let violations = 0;
  let audited = 0;
  const send = link.send.bind(link);
  const state = link.env.sim.readState(0);
  link.send = (cmd: MotorCommand) => {
    link.env.sim.readState(0, state);
    violations += commandViolations(cmd, state, node.limits);
    audited++;
    send(cmd);
  };
  let serialized = 0;
  node.telemetry.onTick((ring, from, to) => {
    for (let s = from; s < to; s++) {
      const r = ring.get(s);
      if (r) serialized += JSON.stringify({ tick: r.tick, mode: r.mode, timings: r.timings, q: Array.from(r.q), cmd: Array.from(r.command.q) }).length;
    }
  });
  const latencies = new LatencyHistogram();
  node.telemetry.onTick((ring, from, to) => {
    for (let s = from; s < to; s++) {
      const r = ring.get(s);
      if (r) latencies.add(r.timings.total);
    }
  });

  const totalTicks = Math.round(Number(values.minutes) * 60 * config.control.rate_hz);
  let seed = config.link.sim.seed;
  let episodes = 0;
  const began = performance.now();
  let rssStart = 0;
  let heapStart = 0;
  node.beginSimulatedEpisode();
  for (let t = 0; t < totalTicks; t++) {
    await node.tick();
    link.advance();
    if (link.episode.terminated || link.episode.truncated) {
      episodes++;
      link.reset(++seed);
      node.beginSimulatedEpisode();
    }
    if (t % 500 === 0) await new Promise((r) => setImmediate(r)); // let the telemetry consumers run
    if (t === 1000) {
      // After warm-up (JIT, first allocations): the reference for flat memory.
      global.gc?.();
      rssStart = process.memoryUsage().rss;
      heapStart = process.memoryUsage().heapUsed;
    }
    if (t % (60 * config.control.rate_hz) === 0 && t > 0) {
      console.error(`simulated ${(t / config.control.rate_hz / 60).toFixed(0)} min, rss ${mb(process.memoryUsage().rss)} MB, ${violations} violations`);
    }
  }
  await new Promise((r) => setImmediate(r));
  global.gc?.();
  const report = {
    policy: engine.manifest.name,
    simulated_s: totalTicks / config.control.rate_hz,
    ticks: totalTicks,
    wall_s: Math.round((performance.now() - began) / 100) / 10,
    episodes_finished: episodes,
    commands_audited: audited,
    commands_outside_limits: violations,
    telemetry_bytes_serialized: serialized,
    tick_latency: latencies.summary(),
    rss_start_mb: mb(rssStart || process.memoryUsage().rss),
    rss_end_mb: mb(process.memoryUsage().rss),
    heap_start_mb: mb(heapStart || process.memoryUsage().heapUsed),
    heap_end_mb: mb(process.memoryUsage().heapUsed),
  };
  await link.close();
  await engine.close();
  console.log(JSON.stringify(report));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
  return violations === 0 ? 0 : 1;
}

process.exitCode = await main();
