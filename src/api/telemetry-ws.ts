// Live telemetry over WebSocket (ws) at /ws. A client subscribes to channels at the rate it chooses:
//   -> {"op": "subscribe", "channel": "robot_state", "every": 5}     (every 5th tick; safety and logs: all)
//   -> {"op": "unsubscribe", "channel": "robot_state"}
//   <- {"channel": "robot_state", "seq": 812, "tick": 812, "data": {...}}
// Each channel's frame is serialised once per tick for all its subscribers. A client whose socket buffer
// is full loses frames (counted), never memory; past max_ws_clients new clients are refused.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { H1_JOINT_NAMES } from "../robot/h1.ts";
import type { SafetyEvent } from "../safety/supervisor.ts";
import type { TelemetryRing, TickRecord } from "../telemetry/ring.ts";
import type { LogHub } from "./logs.ts";

export const CHANNELS = ["robot_state", "commands", "policy", "safety", "logs"] as const;
export type Channel = (typeof CHANNELS)[number];
const PER_TICK: readonly Channel[] = ["robot_state", "commands", "policy"];

/** Frames waiting in a client's socket beyond this are dropped for it. */
const MAX_BUFFERED_BYTES = 1 << 20;
const MAX_EVERY = 1000;

const round = (v: number) => Math.round(v * 1e5) / 1e5;
const arr = (a: ArrayLike<number>, n = a.length) => Array.from({ length: n }, (_, i) => round(a[i]));

/** The data of a per-tick channel for one record (null when the record has nothing for it). */
export function channelData(channel: Channel, r: TickRecord): object | null {
  switch (channel) {
    case "robot_state":
      return { q: arr(r.q), dq: arr(r.dq), tau_est: arr(r.tauEst), imu_quat: arr(r.imuQuat), age_ms: round(r.stateAgeMs), robot_tick: r.robotTick, mode: r.mode };
    case "commands":
      return { mode: r.mode, q: arr(r.command.q), dq: arr(r.command.dq), tau: arr(r.command.tau), kp: arr(r.command.kp), kd: arr(r.command.kd), filter: { ...r.filter } };
    case "policy":
      return {
        ran: r.policyRan,
        K: r.policyRan ? r.K : 0,
        scores: r.policyRan ? arr(r.scores, r.K) : [],
        chosen: r.policyRan ? r.chosen : -1,
        action: r.policyRan ? arr(r.action, r.actionSize) : [],
        candidates: r.policyRan ? arr(r.candidates, r.K * r.actionSize) : [],
        level: r.policyRan ? r.level : "",
        level_rank: r.policyRan ? r.levelRank : -1,
        steps: r.policyRan ? r.steps : 0,
        timings: Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, round(v)])),
        deadline_missed: r.deadlineMissed,
        overrun: r.overrun,
      };
    default:
      return null;
  }
}

interface Client {
  ws: WebSocket;
  every: Map<Channel, number>;
  dropped: number;
}

export class TelemetrySocket {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: (() => void)[] = [];
  dropped = 0;

  constructor(
    server: Server,
    ring: TelemetryRing,
    logs: LogHub,
    private readonly maxClients: number,
    readonly path = "/ws",
  ) {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? "/", "http://x").pathname !== this.path) return;
      if (this.clients.size >= this.maxClients) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\ntoo many telemetry clients\n");
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    this.unsubscribe.push(ring.onTick((r, from, to) => this.onTicks(r, from, to)));
    this.unsubscribe.push(ring.onEvent((e) => this.broadcast("safety", e.tick, { ...e })));
    this.unsubscribe.push(logs.onRecord((rec) => this.broadcast("logs", -1, rec)));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private accept(ws: WebSocket): void {
    const client: Client = { ws, every: new Map(), dropped: 0 };
    this.clients.add(client);
    ws.on("close", () => this.clients.delete(client));
    ws.on("error", () => this.clients.delete(client));
    ws.on("message", (data) => this.onMessage(client, String(data)));
    ws.send(JSON.stringify({ op: "hello", channels: CHANNELS, joints: H1_JOINT_NAMES }));
  }

  private onMessage(client: Client, text: string): void {
    const reply = (o: object) => client.ws.send(JSON.stringify(o));
    let msg: { op?: unknown; channel?: unknown; every?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return reply({ op: "error", error: "not JSON" });
    }
    if (typeof msg !== "object" || msg === null) return reply({ op: "error", error: "expected an object" });
    const channel = msg.channel as Channel;
    if (!CHANNELS.includes(channel)) return reply({ op: "error", error: `unknown channel ${JSON.stringify(msg.channel)}; channels: ${CHANNELS.join(", ")}` });
    if (msg.op === "subscribe") {
      const every = msg.every === undefined ? 1 : msg.every;
      if (!Number.isInteger(every) || (every as number) < 1 || (every as number) > MAX_EVERY) {
        return reply({ op: "error", error: `every must be an integer in [1, ${MAX_EVERY}]` });
      }
      client.every.set(channel, every as number);
      return reply({ op: "subscribed", channel, every });
    }
    if (msg.op === "unsubscribe") {
      client.every.delete(channel);
      return reply({ op: "unsubscribed", channel });
    }
    reply({ op: "error", error: `unknown op ${JSON.stringify(msg.op)}; expected subscribe or unsubscribe` });
  }

  private onTicks(ring: TelemetryRing, from: number, to: number): void {
    if (this.clients.size === 0) return;
    for (let s = from; s < to; s++) {
      const r = ring.get(s);
      if (!r) continue;
      for (const channel of PER_TICK) {
        let frame: string | null = null;
        for (const c of this.clients) {
          const every = c.every.get(channel);
          if (every === undefined || r.tick % every !== 0) continue;
          frame ??= JSON.stringify({ channel, seq: s, tick: r.tick, data: channelData(channel, r) });
          this.send(c, frame);
        }
      }
    }
  }

  private broadcast(channel: Channel, tick: number, data: object): void {
    let frame: string | null = null;
    for (const c of this.clients) {
      if (!c.every.has(channel)) continue;
      frame ??= JSON.stringify({ channel, tick, data });
      this.send(c, frame);
    }
  }

  private send(c: Client, frame: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      c.dropped++;
      this.dropped++;
      return;
    }
    c.ws.send(frame);
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
