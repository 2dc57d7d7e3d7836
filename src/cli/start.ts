// npm start: the main job. The control node drives the simulated H1 with a shipped policy at 50 Hz:
// passive, then the start-up sequence (stand-up, hold, policy), with the safety supervisor on every
// command. When an episode ends (a fall, or HumanoidBench's 1000 steps) the simulator resets and the
// node starts the next one. Prints a status line per second and a JSON summary at the end.
//
//   npm start -- [--config FILE] [--set PATH=VALUE ...] [--policy models/NAME] [--task h1-stand]
//                [--duration SECONDS] [--port N]
import { parseArgs } from "node:util";
import { engineOptions, loadConfig } from "../config/config.ts";
import { ControlNode } from "../control/node.ts";
import { Scheduler } from "../control/scheduler.ts";
import { StartupSequence } from "../control/startup.ts";
import { DdsLink } from "../link/dds/dds-link.ts";
import { Ros2Link } from "../link/ros2/rclnodejs-link.ts";
import { SimLink } from "../link/sim-link.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { randomToken } from "../api/auth.ts";
import { LogHub } from "../api/logs.ts";
import { InProcessControl } from "../api/control.ts";
import { ApiThread } from "../api/thread.ts";
import { consoleLogger } from "../util/log.ts";
import { summarize } from "../util/stats.ts";

const SIM_CONFIG = "config/sim.yaml";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      policy: { type: "string" },
      task: { type: "string" },
      duration: { type: "string", default: "0" },
      port: { type: "string" },
    },
  });
  const overrides = [...values.set!];
  if (values.policy) overrides.push(`policy.path=${values.policy}`);
  if (values.task) overrides.push(`link.sim.task=${values.task}`);
  if (values.port) overrides.push(`api.port=${values.port}`);
  const config = loadConfig({ file: values.config ?? process.env.H1RT_CONFIG ?? SIM_CONFIG, overrides });
  const duration = Number(values.duration);
  if (!(duration >= 0)) throw new Error(`--duration must be >= 0 seconds, got ${values.duration}`);

  const logger = new LogHub(consoleLogger);
  // The link first, so that a missing ROS 2 is reported before a policy is loaded. On ROS 2 the operator
  // drives the modes (remote, services, API); the start-up sequence and episodes are the simulation's.
  const link =
    config.link.kind === "ros2"
      ? await Ros2Link.create(config, logger)
      : config.link.kind === "dds"
        ? await DdsLink.create(config, logger)
        : await SimLink.create(config.link.sim.task, config.link.sim.seed);
  const sim = link instanceof SimLink ? link : null;
  const loadPolicy = (dir: string) =>
    PolicyEngine.load(dir, { ...engineOptions(config), logger });
  const engine = await loadPolicy(config.policy.path);
  const realtime = sim ? config.link.sim.realtime : true;
  const node = new ControlNode({ config, link, logger, engine, enforceBudget: realtime });
  const startup = sim ? new StartupSequence(node, config.control.startup) : null;
  const m = engine.manifest;
  console.log(
    `control node: ${m.name} (${m.algorithm}, K=${engine.candidatesPerObservation}, T=${m.diffusion?.steps}, ${engine.path} on ${engine.provider.toUpperCase()}, ${engine.threads} thread${engine.threads === 1 ? "" : "s"}) ` +
      (sim
        ? `driving the simulated H1 (${config.link.sim.task}, ${realtime ? "simulator on its own clock" : "lockstep"}) at ${config.control.rate_hz} Hz`
        : link instanceof DdsLink
          ? `driving the H1 over DDS (domain ${config.link.dds.domain_id}, ${config.link.dds.topics.lowstate} -> ${config.link.dds.topics.lowcmd}) at ${config.control.rate_hz} Hz, in passive until the operator asks`
          : `driving the H1 over ROS 2 (${config.link.ros2.topics.lowstate} -> ${config.link.ros2.topics.lowcmd}) at ${config.control.rate_hz} Hz, in passive until the operator asks`) +
      (duration > 0 ? ` for ${duration} s` : ", Ctrl-C to stop"),
  );
  const token = config.api.token ?? randomToken();
  const control = new InProcessControl({ config, node, engine, loadPolicy, logger, episode: sim ? () => ({ ...sim.episode }) : undefined });
  if (link instanceof Ros2Link) link.attach({ control, telemetry: node.telemetry });
  if (link instanceof DdsLink) link.attach({ control });
  const api = await ApiThread.start({ config, control, ring: node.telemetry, logs: logger, token });
  const url = api.url;
  console.log(`dashboard ${url}/  API docs ${url}/docs  metrics ${url}/metrics  telemetry ws://${url.slice(7)}/ws`);
  if (!config.api.token) console.log(`API token for this run (mutating routes; e-stop needs none): ${token}`);
  if (api.foxglovePort) console.log(`Foxglove Studio: open a Foxglove WebSocket connection to ws://${config.api.host}:${api.foxglovePort}`);

  let seed = config.link.sim.seed;
  const episodes: { seed: number; return: number; length: number; terminated: boolean }[] = [];
  const latencies: number[] = [];
  let window: number[] = [];
  let nextReport = 1;
  const scheduler = new Scheduler(1000 / config.control.rate_hz, async (index, missed) => {
    startup?.advance();
    const rec = await node.tick(missed);
    latencies.push(rec.timings.total);
    window.push(rec.timings.total);
    if (sim && !realtime) sim.advance();
    const ep = sim?.episode;
    if (sim && ep && (ep.terminated || ep.truncated)) {
      episodes.push({ seed: ep.seed, return: ep.return, length: ep.steps, terminated: ep.terminated });
      console.log(`episode seed ${ep.seed}: return ${ep.return.toFixed(1)} over ${ep.steps} steps${ep.terminated ? " (fell)" : ""}; next episode`);
      sim.reset(++seed);
      // An e-stop stays latched across episodes: the new world waits in e-stop until an operator resets it.
      if (node.supervisor.mode !== "estop") node.beginSimulatedEpisode();
    }
    const t = (index + 1) / config.control.rate_hz;
    if (t >= nextReport) {
      const s = summarize(window);
      console.log(
        `t=${t.toFixed(0)}s mode=${node.supervisor.mode} tick p50=${s.p50_ms}ms p99=${s.p99_ms}ms max=${s.max_ms}ms ` +
          `misses=${scheduler.stats.deadlineMisses}` + (ep ? ` episode: step ${ep.steps} return ${ep.return.toFixed(1)}` : ` robot tick ${rec.robotTick} state age ${rec.stateAgeMs.toFixed(1)}ms`),
      );
      window = [];
      nextReport++;
    }
    if (duration > 0 && t >= duration) void scheduler.stop();
  });
  process.once("SIGINT", () => void scheduler.stop());
  process.once("SIGTERM", () => void scheduler.stop());
  if (sim && realtime) sim.startRealtime();
  await scheduler.start();
  await api.close();
  await link.close();
  await engine.close();
  console.log(
    JSON.stringify({
      policy: m.name,
      task: sim ? config.link.sim.task : null,
      rate_hz: config.control.rate_hz,
      ticks: scheduler.stats.ticks,
      deadline_misses: scheduler.stats.deadlineMisses,
      mode: node.supervisor.mode,
      tick_latency: summarize(latencies),
      episodes,
      current_episode: sim ? { seed: sim.episode.seed, steps: sim.episode.steps, return: sim.episode.return } : null,
      safety_events: node.supervisor.events.map((e) => `${e.tick}: ${e.from} -> ${e.to} (${e.reason})`),
    }),
  );
  return 0;
}

process.exitCode = await main();
