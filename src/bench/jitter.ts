// Tick start jitter of the real control loop (scheduler, node, simulated H1 in lockstep, API up) with the
// API idle, then loaded from a second process (load-generator.ts): how much the API and telemetry
// disturb the loop. Jitter = how late each tick starts after its absolute deadline.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { LogHub } from "../api/logs.ts";
import { InProcessControl } from "../api/control.ts";
import { ApiThread } from "../api/thread.ts";
import { loadConfig } from "../config/config.ts";
import { ControlNode } from "../control/node.ts";
import { Scheduler } from "../control/scheduler.ts";
import { SimLink } from "../link/sim-link.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { silentLogger } from "../util/log.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";

export interface JitterRecord extends LatencySummary {
  name: string;
  kind: "jitter";
  load: "idle" | "loaded";
  policy: string;
  K: number;
  T: number;
  tick_p99_ms: number;
  deadline_misses: number;
  ws_clients: number;
  ws_frames: number;
  http_requests: number;
}

const GENERATOR = fileURLToPath(new URL("./load-generator.ts", import.meta.url));

export async function measureJitter(policyDir: string, seconds: number, wsClients: number, httpLoops: number): Promise<JitterRecord[]> {
  const config = loadConfig({ overrides: ["api.port=0", "api.foxglove_port=0", "api.rate_limit_per_minute=1000000", `api.max_ws_clients=${wsClients + 10}`, "safety.watchdog.max_tilt_rad=3"], env: {} });
  const logs = new LogHub(silentLogger);
  const engine = await PolicyEngine.load(policyDir, { logger: silentLogger, session: { threads: 1 } });
  const link = await SimLink.create("h1-stand", 0);
  const node = new ControlNode({ config, link, logger: logs, engine });
  const control = new InProcessControl({ config, node, engine, logger: logs, loadPolicy: (d) => PolicyEngine.load(d, { logger: silentLogger }) });
  const api = await ApiThread.start({ config, control, ring: node.telemetry, logs, token: "bench-token-0123456789" });
  const url = api.url;
  const records: JitterRecord[] = [];
  const m = engine.manifest;
  const phase = async (load: "idle" | "loaded"): Promise<void> => {
    link.reset(0);
    node.beginSimulatedEpisode();
    const lateness: number[] = [];
    const ticks: number[] = [];
    const scheduler = new Scheduler(1000 / config.control.rate_hz, async (_i, _missed, late) => {
      lateness.push(late);
      ticks.push((await node.tick()).timings.total);
      link.advance();
      if (link.episode.terminated || link.episode.truncated) {
        link.reset(0);
        node.beginSimulatedEpisode();
      }
    });
    let generator: Promise<Record<string, number>> = Promise.resolve({ ws_clients: 0, ws_frames: 0, http_requests: 0 });
    if (load === "loaded") {
      const child = spawn(process.execPath, ["--import", "tsx", GENERATOR, url, String(wsClients), String(httpLoops), String(seconds + 1)], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      generator = new Promise((resolve) => child.on("close", () => resolve(JSON.parse(out || "{}"))));
      await new Promise((r) => setTimeout(r, 1000)); // let the clients connect and subscribe
    }
    await scheduler.start(Math.round(seconds * config.control.rate_hz));
    const g = await generator;
    records.push({
      name: `jitter/api-${load}`,
      kind: "jitter",
      load,
      policy: m.name,
      K: engine.candidatesPerObservation,
      T: m.diffusion!.steps,
      ...summarize(lateness),
      tick_p99_ms: summarize(ticks).p99_ms,
      deadline_misses: scheduler.stats.deadlineMisses,
      ws_clients: g.ws_clients ?? 0,
      ws_frames: g.ws_frames ?? 0,
      http_requests: g.http_requests ?? 0,
    });
  };
  try {
    await phase("idle");
    await phase("loaded");
  } finally {
    await api.close();
    await link.close();
    await engine.close();
  }
  return records;
}
