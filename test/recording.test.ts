// Recordings read back by an independent reader: scripts/read_recording.py decodes the MCAP files with the
// Python `mcap` and `mcap-ros2-support` packages and the schemas stored in the files. Checked: every tick's
// messages against the tick records, a file cut short by SIGKILL, rotation without loss or duplicates.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test, type TestContext } from "node:test";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { H1_JOINT_NAMES } from "../src/robot/h1.ts";
import { Recorder, type RecorderOptions, type RecordingSummary } from "../src/telemetry/recorder.ts";
import { TelemetryRing } from "../src/telemetry/ring.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const PYTHON = ".venv/bin/python";
const READER = "scripts/read_recording.py";
const noReader = (() => {
  const r = spawnSync(PYTHON, ["-c", "import mcap, mcap_ros2"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PYTHON} cannot import mcap and mcap_ros2 (pip install -e 'trainer[test]' or npm run setup)`;
})();

interface Report {
  files: {
    path: string;
    complete: boolean;
    truncated: boolean;
    stop_reason: string | null;
    messages: number;
    topics: Record<string, { schema: string; count: number; first_log_time: number; last_log_time: number; sequences_contiguous: boolean; first_sequence: number; last_sequence: number; messages?: any[] }>;
    indexed?: { statistics: { message_count: number; chunk_count: number; channel_message_counts: Record<string, number> }; chunk_indexes: number; indexed_counts: Record<string, number> };
  }[];
}

function read(paths: string[], messages = true): Report {
  const out = execFileSync(PYTHON, [READER, ...paths, ...(messages ? ["--messages"] : [])], { encoding: "utf8", maxBuffer: 1 << 28 });
  return JSON.parse(out) as Report;
}

let engine: PolicyEngine;
const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "recording-"));
  dirs.push(d);
  return d;
};
before(async () => {
  engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
});
after(async () => {
  await engine.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Ticked {
  tick: number;
  hasState: boolean;
  q: number[];
  mode: string;
  commandQ: number[];
  policyRan: boolean;
  chosen: number;
  scores: number[];
}

/** Run the node in simulation for `n` ticks while recording; copies of what each tick recorded. */
async function recordTicks(n: number, dir: string, options: RecorderOptions) {
  const config = loadConfig({ overrides: ["safety.soft_start_s=0"], env: {} });
  const link = await SimLink.create("h1-stand", 0);
  const node = new ControlNode({ config, link, logger: silentLogger, engine });
  const recorder = new Recorder(node.telemetry);
  await recorder.start(dir, options);
  node.beginSimulatedEpisode();
  const ticked: Ticked[] = [];
  for (let i = 0; i < n; i++) {
    const r = await node.tick();
    link.advance();
    ticked.push({
      tick: r.tick,
      hasState: r.robotTick >= 0,
      q: [...r.q],
      mode: r.mode,
      commandQ: [...r.command.q],
      policyRan: r.policyRan,
      chosen: r.chosen,
      scores: [...r.scores.subarray(0, r.K)],
    });
    // Let the ring's listeners run now and then, as between real ticks.
    if (i % 5 === 4) await new Promise((res) => setImmediate(res));
  }
  await new Promise((res) => setImmediate(res)); // the last safety events
  const summary = await recorder.stop();
  await link.close();
  return { ticked, events: [...node.supervisor.events], summary };
}

function skipWithoutReader(t: TestContext): boolean {
  if (noReader) t.skip(noReader);
  return noReader !== null;
}

test("every tick is recorded and reads back, decoded by the Python mcap reader, as the tick records", async (t) => {
  if (skipWithoutReader(t)) return;
  const dir = scratch();
  const { ticked, events, summary } = await recordTicks(300, dir, {});
  assert.equal(summary.files_written.length, 1);
  assert.equal(summary.error, null);
  assert.equal(summary.droppedTicks, 0);
  assert.ok(Object.values(summary.dropped).every((d) => d === 0), JSON.stringify(summary.dropped));
  const file = summary.files_written[0];
  assert.match(file.path, /\/h1-\d{8}T\d{6}\.\d{3}Z-0000\.mcap$/);
  assert.equal(statSync(file.path).size, file.bytes);
  t.diagnostic(`300 ticks: ${file.bytes} bytes (${(file.bytes / 300).toFixed(0)} B/tick), ${file.chunks} chunks`);

  const report = read([file.path]);
  const f = report.files[0];
  assert.equal(f.complete, true);
  assert.equal(f.stop_reason, null);
  const withState = ticked.filter((r) => r.hasState);
  const withPolicy = ticked.filter((r) => r.policyRan);
  const expected: Record<string, number> = {
    "/joint_states": withState.length,
    "/imu": withState.length,
    "/command": ticked.length,
    "/policy": withPolicy.length,
    "/timings": ticked.length,
    "/safety_events": events.length,
  };
  const got = Object.fromEntries(Object.entries(f.topics).map(([k, v]) => [k, v.count]));
  assert.deepEqual(got, expected);
  assert.deepEqual(summary.written, expected);
  assert.ok(withPolicy.length > 10 && events.length >= 2, `the policy ran (${withPolicy.length}) and the robot fell (${events.length} events)`);
  // The summary and the chunk indexes agree with the front-to-back reading.
  assert.equal(f.indexed!.statistics.message_count, f.messages);
  assert.deepEqual(f.indexed!.statistics.channel_message_counts, expected);
  assert.deepEqual(f.indexed!.indexed_counts, expected);
  assert.equal(f.topics["/joint_states"].schema, "sensor_msgs/msg/JointState");
  assert.equal(f.topics["/imu"].schema, "sensor_msgs/msg/Imu");

  const js = f.topics["/joint_states"].messages!;
  for (const [i, r] of withState.entries()) {
    assert.deepEqual(js[i].name, H1_JOINT_NAMES);
    assert.deepEqual(js[i].position, r.q, `tick ${r.tick} positions`);
    const stampNs = BigInt(js[i].header.stamp.sec) * 1_000_000_000n + BigInt(js[i].header.stamp.nanosec);
    assert.equal(stampNs, BigInt(js[i].log_time), "header stamp = log time");
  }
  const cmd = f.topics["/command"].messages!;
  for (const [i, r] of ticked.entries()) {
    assert.equal(cmd[i].tick, r.tick);
    assert.equal(cmd[i].mode, r.mode);
    assert.deepEqual(cmd[i].q, r.commandQ);
  }
  const pol = f.topics["/policy"].messages!;
  for (const [i, r] of withPolicy.entries()) {
    assert.equal(pol[i].tick, r.tick);
    assert.equal(pol[i].chosen, r.chosen);
    assert.deepEqual(pol[i].scores, r.scores);
    assert.equal(pol[i].candidates.length, pol[i].k * pol[i].action_size);
  }
  const timings = f.topics["/timings"].messages!;
  assert.deepEqual(timings.map((m) => m.tick), ticked.map((r) => r.tick));
  const ev = f.topics["/safety_events"].messages!;
  assert.deepEqual(
    ev.map((e) => [e.tick, e.from_mode, e.to_mode, e.reason, e.source]),
    events.map((e) => [e.tick, e.from, e.to, e.reason, e.source]),
  );
  // Log times are wall clock, in tick order.
  const times = timings.map((m) => m.log_time as number);
  assert.ok(times.every((x, i) => i === 0 || x > times[i - 1]));
  assert.ok(Math.abs(times[0] / 1e6 - Date.now()) < 120_000);

  // A copy cut in the middle (as by a crash during a write) reads up to its last complete chunk.
  assert.ok(file.chunks >= 3, `${file.chunks} chunks`);
  const cut = join(dir, "cut.mcap");
  copyFileSync(file.path, cut);
  truncateSync(cut, Math.floor(file.bytes * 0.6));
  const c = read([cut]).files[0];
  assert.equal(c.truncated, true);
  assert.match(c.stop_reason!, /EndOfFile/);
  assert.ok(c.messages > 0 && c.messages < f.messages, `${c.messages} of ${f.messages} messages`);
  const cutTicks = c.topics["/timings"].messages!.map((m) => m.tick as number);
  assert.deepEqual(cutTicks, ticked.slice(0, cutTicks.length).map((r) => r.tick));
  assert.deepEqual(c.topics["/joint_states"].messages!.map((m) => m.position), js.slice(0, c.topics["/joint_states"].count).map((m) => m.position));
});

test("a recorder killed with SIGKILL leaves a file readable up to its last chunk", { timeout: 120_000 }, async (t) => {
  if (skipWithoutReader(t)) return;
  const dir = scratch();
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/record-child.ts", dir], { stdio: ["ignore", "pipe", "inherit"] });
  const wallOf = new Map<number, number>();
  let file = "";
  let killedAt = 0;
  let lastTick = -1;
  const exited = new Promise((res) => child.on("exit", res));
  for await (const line of createInterface({ input: child.stdout! })) {
    const [what, a, b] = line.split(" ");
    if (what === "started") file = a;
    if (what !== "tick") continue;
    wallOf.set(Number(a), Number(b));
    // Kill mid-run, after 4 s of recording (several chunks cut by age).
    if (Number(a) >= 200 && !killedAt) {
      killedAt = Date.now();
      lastTick = Number(a);
      child.kill("SIGKILL");
    }
  }
  await exited;
  assert.ok(killedAt > 0 && file, "the child recorded and was killed");
  assert.deepEqual(readdirSync(dir), [file.split("/").pop()]);

  const f = read([file]).files[0];
  assert.equal(f.complete, false, "no footer: the process died");
  assert.equal(f.truncated, true);
  const timings = f.topics["/timings"];
  assert.equal(timings.first_sequence, 0);
  assert.ok(timings.sequences_contiguous, "no tick missing before the cut");
  const recordedTicks = timings.messages!.map((m) => m.tick as number);
  assert.deepEqual(recordedTicks, [...recordedTicks.keys()]);
  const lastRecorded = recordedTicks.at(-1)!;
  // Every tick older than a chunk's maximum age (1 s) plus the age check's period (250 ms) and some
  // scheduling slack on a loaded machine is in the file.
  const lostMs = killedAt - wallOf.get(lastRecorded)!;
  t.diagnostic(`crash: ${f.messages} messages read, ${lastTick - lastRecorded} ticks lost (${lostMs} ms before the kill), stop reason: ${f.stop_reason}`);
  for (const [tick, wall] of wallOf) if (wall < killedAt - 1750) assert.ok(tick <= lastRecorded, `tick ${tick} (${killedAt - wall} ms before the kill) lost`);
  assert.equal(f.topics["/command"].count, recordedTicks.length);
});

test("rotation splits a recording into complete files without losing or repeating a message", async (t) => {
  if (skipWithoutReader(t)) return;
  const dir = scratch();
  const { ticked, events, summary } = await recordTicks(200, dir, { prefix: "rot", chunkBytes: 16 * 1024, maxFileBytes: 64 * 1024 });
  const files = summary.files_written;
  assert.ok(files.length >= 5, `${files.length} files`);
  assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.path.split("/").pop()).sort());
  files.forEach((f, i) => assert.ok(f.path.endsWith(`-${String(i).padStart(4, "0")}.mcap`)));
  const report: Report = read(files.map((f) => f.path));
  const ticks: number[] = [];
  const seqs: Record<string, number[]> = {};
  let eventCount = 0;
  for (const [i, f] of report.files.entries()) {
    assert.equal(f.complete, true, f.path);
    assert.equal(f.messages, files[i].messages);
    assert.equal(f.indexed!.statistics.message_count, f.messages);
    assert.equal(f.indexed!.chunk_indexes, f.indexed!.statistics.chunk_count);
    assert.deepEqual(f.indexed!.indexed_counts, Object.fromEntries(Object.entries(f.topics).map(([k, v]) => [k, v.count])));
    assert.ok(statSync(f.path).size <= 64 * 1024 + 24 * 1024, "a file ends near its size limit");
    ticks.push(...f.topics["/timings"].messages!.map((m) => m.tick as number));
    for (const [topic, v] of Object.entries(f.topics)) (seqs[topic] ??= []).push(...v.messages!.map((m) => m.sequence as number));
    eventCount += f.topics["/safety_events"]?.count ?? 0;
  }
  assert.deepEqual(ticks, ticked.map((r) => r.tick), "every tick once, in order, across the files");
  for (const [topic, s] of Object.entries(seqs)) assert.deepEqual(s, [...s.keys()], `${topic}: sequence numbers continue across files`);
  assert.equal(eventCount, events.length);
  summaryHasNoDrops(summary);
});

function summaryHasNoDrops(s: RecordingSummary): void {
  assert.equal(s.droppedTicks, 0);
  assert.equal(s.error, null);
  assert.equal(s.queuedBytes, 0);
}

test("a recorder that falls behind drops whole ticks, counts them, and its file stays valid", async (t) => {
  if (skipWithoutReader(t)) return;
  const dir = scratch();
  const ring = new TelemetryRing(50, 8, 19, 64);
  const recorder = new Recorder(ring);
  // A tiny write queue: every tick that arrives while a chunk is still being written is dropped.
  await recorder.start(dir, { chunkBytes: 4096, maxQueueBytes: 1 });
  const commit = (tick: number) => {
    const r = ring.next();
    r.tick = tick;
    r.timeMs = performance.now();
    r.robotTick = tick;
    ring.commit();
  };
  let tick = 0;
  for (let batch = 0; batch < 40; batch++) {
    for (let i = 0; i < 5; i++) commit(tick++);
    await new Promise((res) => setImmediate(res));
  }
  // 120 ticks without letting the listener run: the ring (50) overwrites the oldest.
  for (let i = 0; i < 120; i++) commit(tick++);
  const s = await recorder.stop();
  assert.ok(s.dropped["/timings"] > 70, `dropped ${s.dropped["/timings"]}`);
  assert.equal(s.written["/timings"] + s.dropped["/timings"], tick, "every tick written or counted as dropped");
  assert.equal(s.droppedTicks, s.dropped["/timings"]);
  const f = read([s.files_written[0].path], false).files[0];
  assert.equal(f.complete, true);
  // How many ticks got through depends on how fast the disk drained the queue: possibly none.
  assert.equal(f.topics["/timings"]?.count ?? 0, s.written["/timings"]);
  assert.equal(f.indexed!.statistics.message_count, f.messages);
});
