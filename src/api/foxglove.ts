// A Foxglove WebSocket protocol server (@foxglove/ws-protocol) on its own port: the node's telemetry as
// JSON channels with JSON schemas, so Foxglove Studio ("Open connection" > Foxglove WebSocket,
// ws://host:8765) lists the topics and plots joint states and latencies live. Messages are serialised
// only for channels somebody subscribed to; like the other consumers, it never makes the tick wait.
import wsProtocol from "@foxglove/ws-protocol"; // CommonJS: its named exports reach ESM through the default

import { WebSocketServer } from "ws";
import { H1_JOINT_NAMES } from "../robot/h1.ts";
import type { SafetyEvent } from "../safety/supervisor.ts";
import type { TelemetryRing, TickRecord } from "../telemetry/ring.ts";
import type { LogHub, LogRecord } from "./logs.ts";

const numbers = { type: "array", items: { type: "number" } };
const strings = { type: "array", items: { type: "string" } };
const time = { type: "object", properties: { sec: { type: "integer" }, nsec: { type: "integer" } } };

/** Topic, schema name and JSON schema of each channel. */
export const FOXGLOVE_CHANNELS = {
  "/joint_states": {
    schemaName: "sensor_msgs/JointState",
    schema: { type: "object", properties: { header: { type: "object", properties: { stamp: time, frame_id: { type: "string" } } }, name: strings, position: numbers, velocity: numbers, effort: numbers } },
  },
  "/command": {
    schemaName: "h1dp/MotorCommand",
    schema: { type: "object", properties: { tick: { type: "integer" }, mode: { type: "string" }, name: strings, q: numbers, dq: numbers, tau: numbers, kp: numbers, kd: numbers } },
  },
  "/policy": {
    schemaName: "h1dp/PolicyTick",
    schema: { type: "object", properties: { tick: { type: "integer" }, K: { type: "integer" }, scores: numbers, chosen: { type: "integer" }, score_spread: { type: "number" }, action: numbers, level: { type: "string" }, steps: { type: "integer" } } },
  },
  "/timings": {
    schemaName: "h1dp/TickTimings",
    schema: {
      type: "object",
      properties: Object.fromEntries(["state", "observation", "inference", "selection", "safety", "send", "total", "state_age"].map((k) => [`${k}_ms`, { type: "number" }]).concat([["tick", { type: "integer" }], ["deadline_missed", { type: "boolean" }]])),
    },
  },
  "/safety_events": {
    schemaName: "h1dp/SafetyEvent",
    schema: { type: "object", properties: { tick: { type: "integer" }, from: { type: "string" }, to: { type: "string" }, reason: { type: "string" }, source: { type: "string" } } },
  },
  "/rosout": {
    // Foxglove's own log schema, so the Log panel shows the node's log.
    schemaName: "foxglove.Log",
    schema: { type: "object", properties: { timestamp: time, level: { type: "integer" }, message: { type: "string" }, name: { type: "string" }, file: { type: "string" }, line: { type: "integer" } } },
  },
} as const;
export type FoxgloveTopic = keyof typeof FOXGLOVE_CHANNELS;

const LOG_LEVEL = { debug: 1, info: 2, warn: 3, error: 4 } as const;
const { FoxgloveServer } = wsProtocol;

function stamp(ns: bigint) {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

export class FoxgloveBridge {
  private readonly server = new FoxgloveServer({ name: "h1-diffusion-runtime" });
  private readonly wss: WebSocketServer;
  private readonly ids = new Map<FoxgloveTopic, number>();
  private readonly subscribed = new Set<number>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly encoder = new TextEncoder();
  /** Offset from performance.now() milliseconds to wall-clock nanoseconds. */
  private readonly epochNs = BigInt(Math.round((Date.now() - performance.now()) * 1e6));

  private constructor(port: number, host: string, ring: TelemetryRing, logs: LogHub) {
    for (const [topic, c] of Object.entries(FOXGLOVE_CHANNELS)) {
      this.ids.set(topic as FoxgloveTopic, this.server.addChannel({ topic, encoding: "json", schemaName: c.schemaName, schema: JSON.stringify(c.schema), schemaEncoding: "jsonschema" }));
    }
    this.server.on("subscribe", (id) => this.subscribed.add(id));
    this.server.on("unsubscribe", (id) => this.subscribed.delete(id));
    this.server.on("error", () => {});
    this.wss = new WebSocketServer({ port, host, handleProtocols: (protocols) => this.server.handleProtocols(protocols) });
    this.wss.on("connection", (ws, req) => this.server.handleConnection(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
    this.unsubscribe.push(ring.onTick((r, from, to) => this.onTicks(r, from, to)));
    this.unsubscribe.push(ring.onEvent((e) => this.onEvent(e)));
    this.unsubscribe.push(logs.onRecord((rec) => this.onLog(rec)));
  }

  static async start(port: number, host: string, ring: TelemetryRing, logs: LogHub): Promise<FoxgloveBridge> {
    const bridge = new FoxgloveBridge(port, host, ring, logs);
    await new Promise<void>((resolve, reject) => {
      bridge.wss.once("listening", resolve);
      bridge.wss.once("error", reject);
    });
    return bridge;
  }

  get port(): number {
    const a = this.wss.address();
    return typeof a === "object" && a ? a.port : 0;
  }

  private publish(topic: FoxgloveTopic, ns: bigint, message: () => object): void {
    const id = this.ids.get(topic)!;
    if (!this.subscribed.has(id)) return;
    this.server.sendMessage(id, ns, this.encoder.encode(JSON.stringify(message())));
  }

  private onTicks(ring: TelemetryRing, from: number, to: number): void {
    if (this.subscribed.size === 0) return;
    for (let s = from; s < to; s++) {
      const r = ring.get(s);
      if (r) this.onTick(r);
    }
  }

  private onTick(r: TickRecord): void {
    const ns = this.epochNs + BigInt(Math.round(r.timeMs * 1e6));
    this.publish("/joint_states", ns, () => ({
      header: { stamp: stamp(ns), frame_id: "" },
      name: H1_JOINT_NAMES,
      position: Array.from(r.q),
      velocity: Array.from(r.dq),
      effort: Array.from(r.tauEst),
    }));
    this.publish("/command", ns, () => ({
      tick: r.tick,
      mode: r.mode,
      name: H1_JOINT_NAMES,
      q: Array.from(r.command.q),
      dq: Array.from(r.command.dq),
      tau: Array.from(r.command.tau),
      kp: Array.from(r.command.kp),
      kd: Array.from(r.command.kd),
    }));
    this.publish("/timings", ns, () => ({
      tick: r.tick,
      state_ms: r.timings.state,
      observation_ms: r.timings.observation,
      inference_ms: r.timings.inference,
      selection_ms: r.timings.selection,
      safety_ms: r.timings.safety,
      send_ms: r.timings.send,
      total_ms: r.timings.total,
      state_age_ms: Number.isFinite(r.stateAgeMs) ? r.stateAgeMs : -1,
      deadline_missed: r.deadlineMissed,
    }));
    if (r.policyRan) {
      this.publish("/policy", ns, () => {
        const scores = Array.from(r.scores.subarray(0, r.K));
        return { tick: r.tick, K: r.K, scores, chosen: r.chosen, score_spread: Math.max(...scores) - Math.min(...scores), action: Array.from(r.action.subarray(0, r.actionSize)), level: r.level, steps: r.steps };
      });
    }
  }

  private onEvent(e: SafetyEvent): void {
    const ns = this.epochNs + BigInt(Math.round(performance.now() * 1e6));
    this.publish("/safety_events", ns, () => ({ ...e }));
  }

  private onLog(rec: LogRecord): void {
    const ns = BigInt(Date.parse(rec.time)) * 1_000_000n;
    this.publish("/rosout", ns, () => ({ timestamp: stamp(ns), level: LOG_LEVEL[rec.level], message: rec.message + (rec.fields ? ` ${JSON.stringify(rec.fields)}` : ""), name: "h1rt", file: "", line: 0 }));
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
