// The DDS link's own costs on loopback (CycloneDDS on `lo`, a non-zero domain), between processes:
//
// Round trip (command out, state back): the time from writing a LowCmd that carries a marker until this
// process's reader callback gets the LowState that reflects it, on performance.now(). Two peers:
//  - echo: a child process with the same addon (./dds-echo.ts) answers each marked LowCmd (joint 0's
//    target = the trip number) with a LowState whose tick is that number. The DDS transport both ways
//    plus each side's wake-up of its JavaScript thread: what the link adds to a tick.
//  - sim: the simulator process (src/cli/sim.ts). A LowCmd with kp = kd = 0 and a distinct feedforward
//    torque on joint 0 (alternating sign) shows in LowState's estimated torque of joint 0 once a physics
//    substep has applied it, so the reply also waits for the simulator's next 2 ms substep (0-2 ms).
// Command stream: the addon's native repeater at 500 Hz, as the link runs it, received by the echo process.
// Intervals between consecutive LowCmd samples on two clocks: the source timestamps (the writer's clock at
// dds_write: the publish rate itself) and the arrival in the subscriber's JavaScript callback (the
// publish rate plus the subscriber's wake-up). Reported with |interval - period|.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { interfaceConfigXml, loadDds, type DdsBinding } from "../link/dds/binding.ts";
import { LOWSTATE_OFFSETS, MOTOR_STATE_OFFSETS, MOTOR_STATE_SIZE } from "../link/dds/layout.ts";
import { LowCmdBuilder } from "../link/unitree/lowcmd.ts";
import { LOWCMD_OFFSETS, LOWCMD_SIZE, MOTOR_CMD_OFFSETS, MOTOR_CMD_SIZE, packLowCmd } from "../link/unitree/lowcmd-layout.ts";
import { JOINT_SLOT } from "../link/unitree/slots.ts";
import { motorCommand } from "../sim/h1-sim.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";

export interface DdsRecord extends LatencySummary {
  name: string;
  kind: "dds";
  measure: "round_trip" | "interval";
  /** Who answered (round trip), or who received the stream (interval). */
  peer: "echo" | "sim";
  /** Interval records: the clock the intervals are taken on; null for round trips. */
  clock: "source" | "receive" | null;
  domain_id: number;
  interface: string;
  cyclonedds: string;
  /** Round trips unanswered within REPLY_TIMEOUT_MS; for the stream, samples written but not received. */
  lost: number;
  /** Interval records: the commanded period and |interval - period|; null for round trips. */
  period_ms: number | null;
  deviation: LatencySummary | null;
  /** Interval records: whether the repeater thread had SCHED_FIFO; null for round trips. */
  realtime: boolean | null;
}

export interface DdsBenchOptions {
  /** The echo peer's domain; the simulator gets domainId + 1, so the two never hear each other. */
  domainId: number;
  interface: string;
  roundTrips: number;
  /** How long the 500 Hz stream is recorded. */
  streamSeconds: number;
  hz: number;
  /** Also the round trip through the simulator process. */
  sim: boolean;
}

/** Where the marker lies in a packed LowCmd: joint 0's target q (float32, exact for integers below 2^24). */
export const MARKER_OFFSET = LOWCMD_OFFSETS.motor_cmd + MOTOR_CMD_SIZE * JOINT_SLOT[0] + MOTOR_CMD_OFFSETS.q;
const TAU_EST_OFFSET = LOWSTATE_OFFSETS.motor_state + MOTOR_STATE_SIZE * JOINT_SLOT[0] + MOTOR_STATE_OFFSETS.tau_est;
const REPLY_TIMEOUT_MS = 250;
const WARMUP_TRIPS = 20;
const ECHO = fileURLToPath(new URL("./dds-echo.ts", import.meta.url));
const SIM = fileURLToPath(new URL("../cli/sim.ts", import.meta.url));

/** One outstanding question at a time: the reader callback offers each LowState, the first match answers. */
class Replies {
  private match: ((bytes: Uint8Array) => boolean) | null = null;
  private answer: ((t: number) => void) | null = null;

  offer(bytes: Uint8Array): void {
    if (this.match?.(bytes)) {
      const answer = this.answer!;
      this.match = this.answer = null;
      answer(performance.now());
    }
  }

  /** ms from send() to the matching reply, or null after REPLY_TIMEOUT_MS. */
  async trip(send: () => void, match: (bytes: Uint8Array) => boolean): Promise<number | null> {
    const reply = new Promise<number>((resolve) => (this.answer = resolve));
    this.match = match;
    const t0 = performance.now();
    send();
    const ac = new AbortController();
    const t = await Promise.race([reply, sleep(REPLY_TIMEOUT_MS, null, { signal: ac.signal }).catch(() => null)]);
    ac.abort();
    this.match = this.answer = null;
    return t === null ? null : t - t0;
  }
}

async function roundTrips(replies: Replies, n: number, send: (i: number) => void, match: (i: number, bytes: Uint8Array) => boolean) {
  const latencies: number[] = [];
  let lost = 0;
  for (let i = 1; i <= WARMUP_TRIPS + n; i++) {
    const ms = await replies.trip(() => send(i), (bytes) => match(i, bytes));
    if (i > WARMUP_TRIPS) ms === null ? lost++ : latencies.push(ms);
    await sleep(2); // about the stream's pace, not back to back
  }
  return { latencies, lost };
}

async function until(cond: () => boolean, timeoutMs: number, what: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${stderr().trim().split("\n").at(-1) ?? ""}`);
    if (performance.now() > end) throw new Error(`${what}: not matched within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

interface Child {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<unknown>;
}

function child(file: string, args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  proc.stdin!.on("error", () => {}); // EPIPE once it has exited: nothing to tell it then
  return { proc, stderr: () => err, exited: once(proc, "exit") };
}

/** Ask it to leave (its own command), SIGKILL after 5 s. */
async function stop(c: Child, line: string): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.stdin!.write(line);
  const killer = setTimeout(() => c.proc.kill("SIGKILL"), 5000);
  await c.exited;
  clearTimeout(killer);
}

function diffs(times: number[], skip: number): number[] {
  const out: number[] = [];
  for (let i = skip + 1; i < times.length; i++) out.push(times[i] - times[i - 1]);
  return out;
}

export async function measureDds(o: DdsBenchOptions, dds: DdsBinding = loadDds()): Promise<DdsRecord[]> {
  const base = { kind: "dds" as const, interface: o.interface, cyclonedds: dds.ddsVersion };
  const records: DdsRecord[] = [];
  const period = 1000 / o.hz;
  const builder = new LowCmdBuilder();
  const command = motorCommand(); // zero gains: nothing here is a stiff command
  const frame = (marker: number, tau = 0) => {
    command.q[0] = marker;
    command.tau[0] = tau;
    return packLowCmd(builder.build(command), new Uint8Array(LOWCMD_SIZE));
  };

  // Echo peer: round trips, then the repeated stream.
  {
    const echo = child(ECHO, [String(o.domainId), o.interface]);
    const participant = dds.createParticipant(o.domainId, interfaceConfigXml(o.interface));
    try {
      // QoS as the link's: LowCmd reliable keep-last 1, LowState best effort.
      const writer = dds.createWriter(participant, "rt/lowcmd", "LowCmd", true, 1);
      const replies = new Replies();
      const reader = dds.createReader(participant, "rt/lowstate", "LowState", false, 8, (bytes) => replies.offer(bytes));
      await until(() => dds.matched(writer) > 0 && dds.matched(reader) > 0, 30_000, "the echo peer", echo.proc, echo.stderr);
      const tickOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(LOWSTATE_OFFSETS.tick, true);
      const rt = await roundTrips(replies, o.roundTrips, (i) => dds.write(writer, frame(i)), (i, b) => tickOf(b) === i);
      records.push({ name: "dds/round-trip/echo", ...base, measure: "round_trip", peer: "echo", clock: null, domain_id: o.domainId, lost: rt.lost, period_ms: null, deviation: null, realtime: null, ...summarize(rt.latencies) });

      const still = frame(0);
      dds.startRepeater(writer, o.hz, 60_000);
      dds.setRepeated(still, still);
      await sleep(o.streamSeconds * 1000);
      const stats = dds.repeaterStats()!;
      dds.stopRepeater();
      await sleep(200); // the last samples in flight
      echo.proc.stdin!.write("report\n");
      let report: { recv_ms: number[]; source_ms: number[] } | null = null;
      for await (const line of createInterface({ input: echo.proc.stdout! })) {
        if (line.startsWith("{")) {
          report = JSON.parse(line);
          break;
        }
      }
      if (!report) throw new Error(`the echo peer sent no report: ${echo.stderr().trim().split("\n").at(-1) ?? ""}`);
      const lost = Math.max(0, stats.writes - report.recv_ms.length);
      const skip = 10; // the stream's first samples, while the subscriber's callback warms up
      for (const [clock, times] of [["source", report.source_ms], ["receive", report.recv_ms]] as const) {
        const intervals = diffs(times, skip);
        records.push({
          name: `dds/lowcmd-interval/${clock}`,
          ...base,
          measure: "interval",
          peer: "echo",
          clock,
          domain_id: o.domainId,
          lost,
          period_ms: period,
          deviation: summarize(intervals.map((d) => Math.abs(d - period))),
          realtime: stats.realtime,
          ...summarize(intervals),
        });
      }
    } finally {
      dds.close(participant);
      await stop(echo, "report\n");
    }
  }

  if (o.sim) {
    const domain = o.domainId + 1;
    const sim = child(SIM, ["--link", "dds", "--domain", String(domain), "--interface", o.interface, "--band", "on", "--status-s", "3600"]);
    const participant = dds.createParticipant(domain, interfaceConfigXml(o.interface));
    try {
      const writer = dds.createWriter(participant, "rt/lowcmd", "LowCmd", true, 1);
      const replies = new Replies();
      let states = 0;
      dds.createReader(participant, "rt/lowstate", "LowState", false, 8, (bytes) => {
        states++;
        replies.offer(bytes);
      });
      // The simulator loads MuJoCo first: allow it time on a loaded machine.
      await until(() => dds.matched(writer) > 0 && states > 0, 90_000, "the simulator process", sim.proc, sim.stderr);
      // Small torques of alternating sign: consecutive markers always differ; the band holds the robot.
      const tau = (i: number) => Math.fround((i % 2 ? 1 : -1) * (0.5 + (i % 10) * 0.1));
      const tauOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat32(TAU_EST_OFFSET, true);
      const rt = await roundTrips(replies, o.roundTrips, (i) => dds.write(writer, frame(0, tau(i))), (i, b) => Math.abs(tauOf(b) - tau(i)) < 1e-4);
      records.push({ name: "dds/round-trip/sim", ...base, measure: "round_trip", peer: "sim", clock: null, domain_id: domain, lost: rt.lost, period_ms: null, deviation: null, realtime: null, ...summarize(rt.latencies) });
    } finally {
      dds.close(participant);
      await stop(sim, "quit\n");
    }
  }
  return records;
}

/** One line per record, as the other bench records print. */
export function formatDds(r: DdsRecord): string {
  if (r.measure === "round_trip") {
    const what = r.peer === "echo" ? "LowCmd out, LowState back from an echo process" : "LowCmd out, LowState reflecting it back from the simulator process";
    return `${r.name}: round trip (${what}) p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms max ${r.max_ms} ms over ${r.n} trips, ${r.lost} lost`;
  }
  const d = r.deviation!;
  return (
    `${r.name}: ${1000 / r.period_ms!} Hz LowCmd stream, interval (${r.clock === "source" ? "writer's source timestamps" : "arrival in a subscriber process"}) ` +
    `p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms max ${r.max_ms} ms; |interval - ${r.period_ms} ms| p50 ${d.p50_ms} ms p99 ${d.p99_ms} ms max ${d.max_ms} ms; ` +
    `${r.n} intervals, ${r.lost} samples lost, repeater ${r.realtime ? "SCHED_FIFO" : "without real-time priority"}`
  );
}
