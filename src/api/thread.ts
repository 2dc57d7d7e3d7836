// The API (Fastify, WebSocket, Foxglove, metrics, recording) in its own worker thread, so that network
// load never runs on the control loop's thread. The node's thread forwards every tick record, safety event
// and log record to it, and answers its requests (e-stop, modes, parameters, policies) between ticks.
import type { Worker } from "node:worker_threads";
import type { Config } from "../config/config.ts";
import { recordToMessage, type TelemetryRing, type TickRecord } from "../telemetry/ring.ts";
import { tsWorker } from "../util/ts-worker.ts";
import { ControlError, type InProcessControl, type NodeControl } from "./control.ts";
import type { LogHub } from "./logs.ts";

/** Messages from the node's thread to the API thread. */
export type ToApi =
  | { t: "ticks"; recs: TickRecord[] }
  | { t: "event"; e: object }
  | { t: "log"; level: string; message: string; fields?: Record<string, unknown> }
  | { t: "rpc-result"; id: number; ok: true; value: unknown }
  | { t: "rpc-result"; id: number; ok: false; status?: number; message: string }
  | { t: "close" };

/** Messages from the API thread to the node's thread. */
export type FromApi =
  | { t: "ready"; url: string; foxglovePort: number | null }
  | { t: "failed"; message: string }
  | { t: "rpc"; id: number; method: Exclude<keyof NodeControl, "recording">; args: unknown[] }
  | { t: "closed" };

export interface ApiThreadOptions {
  config: Config;
  control: InProcessControl;
  ring: TelemetryRing;
  logs: LogHub;
  token: string;
}

export class ApiThread {
  private constructor(
    private readonly worker: Worker,
    readonly url: string,
    readonly foxglovePort: number | null,
    private readonly unsubscribe: (() => void)[],
  ) {}

  static async start(o: ApiThreadOptions): Promise<ApiThread> {
    const worker = tsWorker(new URL("./worker.ts", import.meta.url), { workerData: { config: o.config, token: o.token } });
    const send = (m: ToApi) => worker.postMessage(m);
    const unsubscribe = [
      o.ring.onTick((ring, from, to) => {
        const recs: TickRecord[] = [];
        for (let s = from; s < to; s++) {
          const r = ring.get(s);
          if (r) recs.push(recordToMessage(r));
        }
        if (recs.length) send({ t: "ticks", recs });
      }),
      o.ring.onEvent((e) => send({ t: "event", e: { ...e } })),
      o.logs.onRecord((r) => send({ t: "log", level: r.level, message: r.message, fields: r.fields })),
    ];
    worker.on("message", (m: FromApi) => {
      if (m.t !== "rpc") return;
      const method = o.control[m.method] as (...args: unknown[]) => Promise<unknown>;
      method.apply(o.control, m.args).then(
        (value) => send({ t: "rpc-result", id: m.id, ok: true, value }),
        (err: Error) => send({ t: "rpc-result", id: m.id, ok: false, status: err instanceof ControlError ? err.status : undefined, message: err.message }),
      );
    });
    worker.on("error", (err) => o.logs.log("error", `API thread failed: ${err.message}; the control loop goes on, the API is down`));
    const ready = await new Promise<FromApi>((resolve, reject) => {
      worker.on("message", (m: FromApi) => (m.t === "ready" || m.t === "failed") && resolve(m));
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the API thread exited (code ${code}) before it was ready`)));
    });
    if (ready.t === "failed") {
      await worker.terminate();
      unsubscribe.forEach((u) => u());
      throw new Error(ready.message);
    }
    const r = ready as Extract<FromApi, { t: "ready" }>;
    return new ApiThread(worker, r.url, r.foxglovePort, unsubscribe);
  }

  async close(): Promise<void> {
    this.unsubscribe.forEach((u) => u());
    const closed = new Promise<void>((resolve) => {
      this.worker.on("message", (m: FromApi) => m.t === "closed" && resolve());
      this.worker.once("exit", () => resolve());
    });
    this.worker.postMessage({ t: "close" } satisfies ToApi);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
    await this.worker.terminate();
  }
}
