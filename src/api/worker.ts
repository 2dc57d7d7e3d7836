// The API thread (see thread.ts): a mirror of the node's telemetry ring fed by messages, the API server
// on it, the Foxglove bridge, the MCAP recorder; requests to the node go back as messages.
import { parentPort, workerData } from "node:worker_threads";
import type { Config } from "../config/config.ts";
import type { SafetyEvent } from "../safety/supervisor.ts";
import { Recorder } from "../telemetry/recorder.ts";
import { commitMessage, TelemetryRing } from "../telemetry/ring.ts";
import { silentLogger, type LogLevel } from "../util/log.ts";
import { ControlError, type NodeControl, type NodeStatus, type Params, type ParamsPatch } from "./control.ts";
import { FoxgloveBridge } from "./foxglove.ts";
import { LogHub } from "./logs.ts";
import { ApiServer } from "./server.ts";
import type { FromApi, ToApi } from "./thread.ts";

const port = parentPort!;
const { config, token } = workerData as { config: Config; token: string };
const post = (m: FromApi) => port.postMessage(m);

/** The node's side of NodeControl, reached by messages; recording is done here, next to the telemetry. */
class RemoteControl implements NodeControl {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly recorder: Recorder) {}

  private call<T>(method: Exclude<keyof NodeControl, "recording">, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      post({ t: "rpc", id, method, args });
    });
  }

  settle(m: Extract<ToApi, { t: "rpc-result" }>): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(m.status ? new ControlError(m.status as 404 | 409 | 422, m.message) : new Error(m.message));
  }

  status = () => this.call<NodeStatus>("status");
  estop = (reason: string) => this.call<NodeStatus["mode"]>("estop", reason);
  reset = (reason: string) => this.call<string | null>("reset", reason);
  request = (mode: NodeStatus["mode"], reason: string) => this.call<string | null>("request", mode, reason);
  setParams = (patch: ParamsPatch) => this.call<Params>("setParams", patch);
  loadPolicy = (dir: string) => this.call<void>("loadPolicy", dir);

  async recording(action: "start" | "stop" | "status"): Promise<object> {
    const r = this.recorder;
    if (action === "status") return r.status();
    try {
      if (action === "stop") return await r.stop();
      await r.start(config.api.recordings_dir);
      return r.status();
    } catch (err) {
      throw new ControlError(409, (err as Error).message);
    }
  }
}

const ring = new TelemetryRing(config.telemetry.ring_size);
const logs = new LogHub(silentLogger); // the node's thread prints its own log
const recorder = new Recorder(ring, logs);
const control = new RemoteControl(recorder);
const api = new ApiServer({ config, control, ring, logs, token });
let foxglove: FoxgloveBridge | null = null;

port.on("message", async (m: ToApi) => {
  switch (m.t) {
    case "ticks":
      for (const rec of m.recs) commitMessage(ring, rec);
      break;
    case "event":
      ring.emitEvent(m.e as SafetyEvent);
      break;
    case "log":
      logs.log(m.level as LogLevel, m.message, m.fields);
      break;
    case "rpc-result":
      control.settle(m);
      break;
    case "close":
      if (recorder.status().active) await recorder.stop().catch(() => {});
      await foxglove?.close();
      await api.close();
      post({ t: "closed" });
      break;
  }
});

try {
  const url = await api.listen();
  if (config.api.foxglove_port > 0) foxglove = await FoxgloveBridge.start(config.api.foxglove_port, config.api.host, ring, logs);
  post({ t: "ready", url, foxglovePort: foxglove?.port ?? null });
} catch (err) {
  post({ t: "failed", message: `the API cannot start: ${(err as Error).message}` });
}
