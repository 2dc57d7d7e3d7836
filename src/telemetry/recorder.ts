// Recording of the control loop to MCAP (docs/recording.md): every tick's state, observation, candidates
// and scores, the command and timings, and the safety events, as ROS 2 (CDR) messages. The recorder is a
// telemetry consumer: it copies what it needs out of the ring in the ring's asynchronous listener, encodes
// it there (small, synchronous) and hands whole chunks to a file sink that writes them in the background.
// The tick never waits on it and never touches the disk; a full write queue drops messages (counted).
//
// The file is written chunk by chunk, each chunk cut by size and by age, so that a crash leaves every chunk
// but the open one readable with a streaming reader; stop() and rotation end each file with the summary
// and footer, making it a complete, indexed MCAP. @mcap/core's McapWriter cannot cut a chunk on demand (by
// time), so the file layout below is assembled from its own record and chunk builders.
import { mkdir, open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { McapChunkBuilder, McapRecordBuilder, Opcode, type IWritable, type McapTypes } from "@mcap/core";
import { parse } from "@foxglove/rosmsg";
import { MessageWriter } from "@foxglove/rosmsg2-serialization";
import { H1_JOINT_NAMES } from "../robot/h1.ts";
import type { SafetyEvent } from "../safety/supervisor.ts";
import type { Logger } from "../util/log.ts";
import type { TelemetryRing, TickRecord } from "./ring.ts";

// ---- ROS 2 message definitions (.msg text as rosbag2 stores it: the type, then its dependencies) ----

const SEP = "\n================================================================================\n";
const HEADER_DEPS =
  `${SEP}MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id` +
  `${SEP}MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec\n`;

/** Topic -> [schema name, .msg text]. The h1dp_msgs types are this project's own. */
export const RECORDING_SCHEMAS = {
  "/joint_states": [
    "sensor_msgs/msg/JointState",
    "std_msgs/Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort" + HEADER_DEPS,
  ],
  "/imu": [
    "sensor_msgs/msg/Imu",
    "std_msgs/Header header\ngeometry_msgs/Quaternion orientation\nfloat64[9] orientation_covariance\n" +
      "geometry_msgs/Vector3 angular_velocity\nfloat64[9] angular_velocity_covariance\n" +
      "geometry_msgs/Vector3 linear_acceleration\nfloat64[9] linear_acceleration_covariance" +
      `${SEP}MSG: geometry_msgs/Quaternion\nfloat64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1` +
      `${SEP}MSG: geometry_msgs/Vector3\nfloat64 x\nfloat64 y\nfloat64 z` +
      HEADER_DEPS,
  ],
  "/command": [
    "h1dp_msgs/msg/MotorCommand",
    "uint32 tick\nstring mode\nstring[] name\nfloat64[] q\nfloat64[] dq\nfloat64[] tau\nfloat64[] kp\nfloat64[] kd\n",
  ],
  "/policy": [
    "h1dp_msgs/msg/PolicyTick",
    "uint32 tick\nfloat32[] observation\nuint32 k\nuint32 action_size\nfloat32[] candidates\nfloat32[] scores\n" +
      "int32 chosen\nfloat32[] action\n",
  ],
  "/timings": [
    "h1dp_msgs/msg/TickTimings",
    "uint32 tick\nfloat64 state\nfloat64 observation\nfloat64 inference\nfloat64 selection\nfloat64 safety\n" +
      "float64 send\nfloat64 total\nbool deadline_missed\nbool overrun\nbool non_finite\nfloat64 state_age_ms\n",
  ],
  // `from` is a keyword in Python (and the ROS 2 generators): the modes are from_mode / to_mode.
  "/safety_events": ["h1dp_msgs/msg/SafetyEvent", "uint32 tick\nstring from_mode\nstring to_mode\nstring reason\nstring source\n"],
} as const;

export type RecordingTopic = keyof typeof RECORDING_SCHEMAS;
const TOPICS = Object.keys(RECORDING_SCHEMAS) as RecordingTopic[];

// Covariances per sensor_msgs/Imu: all zeros = unknown, element 0 = -1 = not measured.
const COV_UNKNOWN = new Float64Array(9);
const COV_ABSENT = Float64Array.from([-1, 0, 0, 0, 0, 0, 0, 0, 0]);
const ZERO3 = { x: 0, y: 0, z: 0 };
const IMU_FRAME = "imu_link";

// ---- CRC-32 (zlib's, as MCAP specifies) ----

/** crc32(data, previous) chains like zlib's. Node >= 20.15 has it natively (~0.1 ms per 256 KiB); the
 * table version (~10x slower) is for older Node 20. */
const crc32: (data: Uint8Array, value?: number) => number =
  (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32 ??
  (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return (data: Uint8Array, value = 0) => {
      let c = ~value;
      for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
      return ~c >>> 0;
    };
  })();

// ---- the file sink ----

/** Bytes queued across all sinks of a recorder (the bound applies to all of them together). */
interface QueueBudget {
  queued: number;
}

/** An IWritable over a FileHandle: write() only queues and returns; the queue is drained in order
 * in the background, with an fdatasync after each batch when `sync` (a power cut then loses at most the
 * batch being written, like a crash). */
export class FileSink implements IWritable {
  private readonly queue: Uint8Array[] = [];
  private pos = 0n;
  private draining: Promise<void> | null = null;
  private readonly handle: Promise<FileHandle>;
  error: Error | null = null;

  constructor(
    readonly path: string,
    private readonly budget: QueueBudget,
    private readonly sync: boolean,
  ) {
    // "wx": a recording never overwrites a file.
    this.handle = open(path, "wx");
    this.handle.catch((err: Error) => (this.error ??= err));
  }

  /** Resolves once the file is open (or rejects with why not). */
  async opened(): Promise<void> {
    await this.handle;
  }

  position(): bigint {
    return this.pos;
  }

  /** Queues `buffer` itself, not a copy: the caller must not change it afterwards (the buffers of
   * @mcap/core's record builders are copies already). */
  write(buffer: Uint8Array): Promise<void> {
    this.queue.push(buffer);
    this.pos += BigInt(buffer.byteLength);
    this.budget.queued += buffer.byteLength;
    this.kick();
    return Promise.resolve();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // A write may have landed after the drain loop saw an empty queue.
      if (this.queue.length && !this.error) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await this.handle;
    } catch {
      this.discardQueue();
      return;
    }
    while (this.queue.length && !this.error) {
      const parts = this.queue.splice(0);
      const batch = parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength) : Buffer.concat(parts);
      try {
        for (let off = 0; off < batch.length; ) off += (await fh.write(batch, off, batch.length - off)).bytesWritten;
        if (this.sync) await fh.datasync();
      } catch (err) {
        this.error ??= err as Error;
      }
      this.budget.queued -= batch.length;
    }
    this.discardQueue();
  }

  private discardQueue(): void {
    for (const b of this.queue.splice(0)) this.budget.queued -= b.byteLength;
  }

  /** Write what is queued, then close the file. */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    const fh = await this.handle.catch(() => null);
    await fh?.close();
    if (this.error) throw this.error;
  }
}

// ---- one MCAP file ----

interface ChannelDef {
  schema: McapTypes.Schema;
  channel: McapTypes.Channel;
}

/** One MCAP file: header, schemas and channels up front (readable from the first chunk on), then chunks
 * each followed by its message indexes; close() adds the data end, summary (schemas, channels, statistics,
 * chunk indexes), summary offsets and footer. Everything but close() is synchronous. */
class McapFile {
  private readonly rec = new McapRecordBuilder();
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private dataCrc = 0;
  chunkOpenedMs = 0;
  readonly openedMs = performance.now();
  readonly stats: McapTypes.Statistics;

  constructor(
    readonly sink: FileSink,
    private readonly defs: ChannelDef[],
  ) {
    this.stats = {
      messageCount: 0n,
      schemaCount: defs.length,
      channelCount: defs.length,
      attachmentCount: 0,
      metadataCount: 0,
      chunkCount: 0,
      messageStartTime: 0n,
      messageEndTime: 0n,
      channelMessageCounts: new Map(),
    };
    this.rec.writeMagic();
    this.rec.writeHeader({ profile: "ros2", library: "h1-diffusion-runtime recorder (@mcap/core)" });
    for (const d of defs) this.rec.writeSchema(d.schema);
    for (const d of defs) this.rec.writeChannel(d.channel);
    this.emitData();
  }

  /** Bytes in the file once the open chunk is written. */
  get size(): number {
    return Number(this.sink.position()) + this.chunk.byteLength;
  }

  get chunkBytes(): number {
    return this.chunk.byteLength;
  }

  get chunkMessages(): number {
    return this.chunk.numMessages;
  }

  add(message: McapTypes.Message): void {
    if (this.chunk.numMessages === 0) this.chunkOpenedMs = performance.now();
    this.chunk.addMessage(message);
    const s = this.stats;
    if (s.messageCount === 0n || message.logTime < s.messageStartTime) s.messageStartTime = message.logTime;
    if (s.messageCount === 0n || message.logTime > s.messageEndTime) s.messageEndTime = message.logTime;
    s.messageCount++;
    s.channelMessageCounts.set(message.channelId, (s.channelMessageCounts.get(message.channelId) ?? 0n) + 1n);
  }

  /** Write the open chunk (and its message indexes) to the sink. */
  flushChunk(): void {
    if (this.chunk.numMessages === 0) return;
    const data = this.chunk.buffer;
    const chunkStartOffset = this.sink.position();
    const chunkLength = this.rec.writeChunk({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      uncompressedSize: BigInt(data.byteLength),
      uncompressedCrc: crc32(data),
      compression: "",
      records: data,
    });
    const indexStart = chunkStartOffset + chunkLength;
    const messageIndexOffsets = new Map<number, bigint>();
    let messageIndexLength = 0n;
    for (const index of this.chunk.indices) {
      if (index.records.length === 0) continue;
      messageIndexOffsets.set(index.channelId, indexStart + messageIndexLength);
      messageIndexLength += this.rec.writeMessageIndex(index);
    }
    this.chunkIndexes.push({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets,
      messageIndexLength,
      compression: "",
      compressedSize: BigInt(data.byteLength),
      uncompressedSize: BigInt(data.byteLength),
    });
    this.stats.chunkCount++;
    this.chunk.reset();
    this.emitData();
  }

  /** Data-section bytes go to the sink through the data CRC. */
  private emitData(): void {
    const bytes = this.rec.buffer; // (a copy: the builder's memory is reused)
    this.dataCrc = crc32(bytes, this.dataCrc);
    void this.sink.write(bytes);
    this.rec.reset();
  }

  /** End the file: last chunk, data end, summary, footer; resolves when it is on disk and closed. */
  close(): Promise<void> {
    this.flushChunk();
    const r = this.rec;
    r.writeDataEnd({ dataSectionCrc: this.dataCrc });
    void this.sink.write(r.buffer);
    r.reset();

    const summaryStart = this.sink.position();
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (groupOpcode: Opcode, writeAll: () => bigint) => {
      const groupStart = summaryStart + BigInt(r.length);
      const groupLength = writeAll();
      if (groupLength > 0n) offsets.push({ groupOpcode, groupStart, groupLength });
    };
    group(Opcode.SCHEMA, () => this.defs.reduce((n, d) => n + r.writeSchema(d.schema), 0n));
    group(Opcode.CHANNEL, () => this.defs.reduce((n, d) => n + r.writeChannel(d.channel), 0n));
    group(Opcode.STATISTICS, () => r.writeStatistics(this.stats));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.reduce((n, c) => n + r.writeChunkIndex(c), 0n));
    const summaryOffsetStart = summaryStart + BigInt(r.length);
    for (const o of offsets) r.writeSummaryOffset(o);

    // The summary CRC covers the summary through the footer's fields before the CRC itself.
    const footerHead = new DataView(new ArrayBuffer(25));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 20n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(new Uint8Array(footerHead.buffer), crc32(r.buffer));
    r.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    r.writeMagic();
    void this.sink.write(r.buffer);
    r.reset();
    return this.sink.close();
  }
}

// ---- the recorder ----

export interface RecorderOptions {
  /** File names are <dir>/<prefix>-<UTC start, yyyymmddThhmmss.sssZ>-<index>.mcap. Default "h1". */
  prefix?: string;
  /** Cut a chunk once it holds this many bytes (default 256 KiB)... */
  chunkBytes?: number;
  /** ...or once its first message is this old (default 1000 ms): what a crash can lose. */
  chunkMaxAgeMs?: number;
  /** Start a new file beyond this size (default 256 MiB)... */
  maxFileBytes?: number;
  /** ...or this duration (default 10 min). */
  maxFileDurationMs?: number;
  /** Drop ticks (counted) while more than this many bytes wait to be written (default 16 MiB). */
  maxQueueBytes?: number;
  /** fdatasync after each write batch (default true). */
  sync?: boolean;
}

export interface RecordedFile {
  path: string;
  bytes: number;
  messages: number;
  chunks: number;
  /** Why the file may be incomplete (a write failed), else absent. */
  error?: string;
}

export interface RecorderStatus {
  active: boolean;
  dir: string | null;
  file: string | null;
  files: number;
  /** Per topic, messages written to files and messages dropped (write queue full, or records the ring
   * overwrote before the recorder read them). */
  written: Record<RecordingTopic, number>;
  dropped: Record<RecordingTopic, number>;
  droppedTicks: number;
  queuedBytes: number;
  error: string | null;
}

export interface RecordingSummary extends RecorderStatus {
  files_written: RecordedFile[];
}

const counts = () => Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<RecordingTopic, number>;

/** UTC, ISO 8601 basic format, sortable; milliseconds so that a quick restart gets new names: 20250102T030405.678Z. */
const utcStamp = (d: Date) => d.toISOString().replace(/[-:]/g, "");

export class Recorder {
  private readonly writers: Record<RecordingTopic, MessageWriter>;
  private readonly defs: ChannelDef[];
  private readonly channelId: Record<RecordingTopic, number>;
  private readonly sequence: Record<RecordingTopic, number>;
  private opts: Required<RecorderOptions> | null = null;
  private dir: string | null = null;
  private stamp = "";
  private file: McapFile | null = null;
  private fileIndex = 0;
  private readonly files: RecordedFile[] = [];
  private readonly closing = new Set<Promise<void>>();
  private readonly budget: QueueBudget = { queued: 0 };
  private written = counts();
  private dropped = counts();
  private droppedTicks = 0;
  private error: string | null = null;
  private nextSeq = 0;
  private offsetMs = 0;
  private pendingEvents: (SafetyEvent & { timeMs: number })[] = [];
  private eventsScheduled = false;
  private unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopping: Promise<RecordingSummary> | null = null;

  constructor(
    private readonly ring: TelemetryRing,
    private readonly logger?: Logger,
  ) {
    this.defs = TOPICS.map((topic, i) => {
      const [name, text] = RECORDING_SCHEMAS[topic];
      return {
        schema: { id: i + 1, name, encoding: "ros2msg", data: new TextEncoder().encode(text) },
        channel: { id: i, schemaId: i + 1, topic, messageEncoding: "cdr", metadata: new Map() },
      };
    });
    this.writers = Object.fromEntries(
      TOPICS.map((t) => [t, new MessageWriter(parse(RECORDING_SCHEMAS[t][1], { ros2: true }))]),
    ) as Record<RecordingTopic, MessageWriter>;
    this.channelId = Object.fromEntries(TOPICS.map((t, i) => [t, i])) as Record<RecordingTopic, number>;
    this.sequence = counts();
  }

  get active(): boolean {
    return this.opts !== null;
  }

  /** Start recording the ticks committed from now on into `dir` (created if needed). Resolves once the
   * first file is open; rejects (recording nothing) if it cannot be. */
  async start(dir: string, options: RecorderOptions = {}): Promise<string> {
    if (this.opts) throw new Error("the recorder is already recording");
    this.opts = {
      prefix: options.prefix ?? "h1",
      chunkBytes: options.chunkBytes ?? 256 * 1024,
      chunkMaxAgeMs: options.chunkMaxAgeMs ?? 1000,
      maxFileBytes: options.maxFileBytes ?? 256 * 1024 * 1024,
      maxFileDurationMs: options.maxFileDurationMs ?? 10 * 60 * 1000,
      maxQueueBytes: options.maxQueueBytes ?? 16 * 1024 * 1024,
      sync: options.sync ?? true,
    };
    this.dir = dir;
    this.stamp = utcStamp(new Date());
    this.fileIndex = 0;
    this.files.length = 0;
    this.written = counts();
    this.dropped = counts();
    this.droppedTicks = 0;
    this.error = null;
    for (const t of TOPICS) this.sequence[t] = 0;
    // Log times are wall clock; the records' times are performance.now(): one offset for the recording.
    this.offsetMs = Date.now() - performance.now();
    this.nextSeq = this.ring.seq;
    try {
      await mkdir(dir, { recursive: true });
      this.openFile();
      await this.file!.sink.opened();
    } catch (err) {
      this.file = null;
      this.opts = null;
      throw err;
    }
    this.unsubscribe = [
      this.ring.onTick((ring, from, to) => this.onTicks(ring, from, to)),
      this.ring.onEvent((e) => this.onEvent(e)),
    ];
    // Cuts chunks by age (and files by duration) when ticks are slow or stopped.
    const every = Math.max(20, Math.min(250, this.opts.chunkMaxAgeMs / 4));
    this.timer = setInterval(() => this.maintain(), every);
    this.timer.unref();
    return this.file!.sink.path;
  }

  /** Record what is still in the ring, end the current file, wait for every file to be on disk. */
  stop(): Promise<RecordingSummary> {
    if (this.stopping) return this.stopping;
    if (!this.opts) return Promise.reject(new Error("the recorder is not recording"));
    return (this.stopping = this.finish().finally(() => (this.stopping = null)));
  }

  private async finish(): Promise<RecordingSummary> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onTicks(this.ring, this.nextSeq, this.ring.seq);
    this.writeEvents();
    this.closeFile();
    await Promise.allSettled([...this.closing]);
    this.opts = null; // (not before: a start() meanwhile would reuse this.files)
    return { ...this.status(), files_written: this.files.map((f) => ({ ...f })) };
  }

  status(): RecorderStatus {
    return {
      active: this.active,
      dir: this.dir,
      file: this.file?.sink.path ?? null,
      files: this.files.length,
      written: { ...this.written },
      dropped: { ...this.dropped },
      droppedTicks: this.droppedTicks,
      queuedBytes: this.budget.queued,
      error: this.error,
    };
  }

  private openFile(): void {
    const o = this.opts!;
    const path = join(this.dir!, `${o.prefix}-${this.stamp}-${String(this.fileIndex++).padStart(4, "0")}.mcap`);
    this.file = new McapFile(new FileSink(path, this.budget, o.sync), this.defs);
    this.files.push({ path, bytes: 0, messages: 0, chunks: 0 });
  }

  private closeFile(): void {
    const file = this.file;
    if (!file) return;
    this.file = null;
    const entry = this.files.find((f) => f.path === file.sink.path)!;
    const done = file
      .close()
      .catch((err: Error) => {
        entry.error = err.message;
        this.error ??= `${file.sink.path}: ${err.message}`;
        this.logger?.log("error", `recording: ${file.sink.path}: ${err.message}`);
      })
      .finally(() => {
        entry.bytes = Number(file.sink.position());
        entry.messages = Number(file.stats.messageCount);
        entry.chunks = file.stats.chunkCount;
        this.closing.delete(done);
      });
    this.closing.add(done);
  }

  /** Cut the chunk when it is big or old enough, rotate the file when it is (after each tick, and on a
   * timer for when ticks are slow or stopped). */
  private maintain(): void {
    const f = this.file;
    if (!f || !this.opts) return;
    if (f.sink.error) {
      // A file that cannot be written (disk full, ...) ends the recording; it stays readable up to its last
      // chunk on disk, and later ticks are counted as dropped.
      this.error ??= `${f.sink.path}: ${f.sink.error.message}`;
      this.logger?.log("error", `recording stopped: ${this.error}`);
      this.closeFile();
      return;
    }
    const now = performance.now();
    if (f.chunkBytes >= this.opts.chunkBytes || (f.chunkMessages > 0 && now - f.chunkOpenedMs >= this.opts.chunkMaxAgeMs)) {
      f.flushChunk();
    }
    if (f.size >= this.opts.maxFileBytes || (f.stats.messageCount > 0n && now - f.openedMs >= this.opts.maxFileDurationMs)) {
      this.closeFile();
      this.openFile();
    }
  }

  private onTicks(ring: TelemetryRing, _from: number, to: number): void {
    if (!this.opts) return;
    // The oldest slot of the ring is the one a tick in progress refills: read only the ones after it.
    const first = Math.max(this.nextSeq, ring.seq - ring.size + 1);
    if (first > this.nextSeq) this.lostTicks(first - this.nextSeq);
    for (let seq = first; seq < to; seq++) {
      const r = ring.get(seq);
      if (r && r.seq === seq) this.writeTick(r);
      else this.lostTicks(1);
      this.maintain();
    }
    this.nextSeq = Math.max(this.nextSeq, to);
  }

  private lostTicks(n: number): void {
    this.droppedTicks += n;
    for (const t of ["/command", "/timings"] as const) this.dropped[t] += n;
  }

  private logTime(timeMs: number): bigint {
    return BigInt(Math.round((timeMs + this.offsetMs) * 1e6));
  }

  private put(topic: RecordingTopic, logTime: bigint, message: unknown): void {
    this.file!.add({
      channelId: this.channelId[topic],
      sequence: this.sequence[topic]++,
      logTime,
      publishTime: logTime,
      data: this.writers[topic].writeMessage(message),
    });
    this.written[topic]++;
  }

  private writeTick(r: TickRecord): void {
    const hasState = r.robotTick >= 0;
    if (!this.file || this.file.sink.error || this.budget.queued > this.opts!.maxQueueBytes) {
      this.droppedTicks++;
      this.dropped["/command"]++;
      this.dropped["/timings"]++;
      if (hasState) this.dropped["/joint_states"]++, this.dropped["/imu"]++;
      if (r.policyRan) this.dropped["/policy"]++;
      return;
    }
    const t = this.logTime(r.timeMs);
    const stamp = { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) };
    // The record's arrays are encoded right here (a copy): the ring may reuse them after this call.
    if (hasState) {
      this.put("/joint_states", t, {
        header: { stamp, frame_id: "" },
        name: H1_JOINT_NAMES,
        position: r.q,
        velocity: r.dq,
        effort: r.tauEst,
      });
      const [w, x, y, z] = r.imuQuat;
      this.put("/imu", t, {
        header: { stamp, frame_id: IMU_FRAME },
        orientation: { x, y, z, w },
        orientation_covariance: COV_UNKNOWN,
        angular_velocity: ZERO3,
        angular_velocity_covariance: COV_ABSENT,
        linear_acceleration: ZERO3,
        linear_acceleration_covariance: COV_ABSENT,
      });
    }
    const c = r.command;
    this.put("/command", t, { tick: r.tick, mode: r.mode, name: H1_JOINT_NAMES, q: c.q, dq: c.dq, tau: c.tau, kp: c.kp, kd: c.kd });
    if (r.policyRan) {
      this.put("/policy", t, {
        tick: r.tick,
        observation: r.observation.subarray(0, r.obsSize),
        k: r.K,
        action_size: r.actionSize,
        candidates: r.candidates.subarray(0, r.K * r.actionSize),
        scores: r.scores.subarray(0, r.K),
        chosen: r.chosen,
        action: r.action.subarray(0, r.actionSize),
      });
    }
    const tm = r.timings;
    this.put("/timings", t, {
      tick: r.tick,
      ...tm,
      deadline_missed: r.deadlineMissed,
      overrun: r.overrun,
      non_finite: r.nonFinite,
      state_age_ms: r.stateAgeMs,
    });
  }

  /** Events arrive in a microtask during the tick: keep them (bounded) and write them after it. */
  private onEvent(e: SafetyEvent): void {
    if (!this.opts) return;
    if (this.pendingEvents.length >= 1000) {
      this.dropped["/safety_events"]++;
      return;
    }
    this.pendingEvents.push({ ...e, timeMs: performance.now() });
    if (!this.eventsScheduled) {
      this.eventsScheduled = true;
      setImmediate(() => this.writeEvents());
    }
  }

  private writeEvents(): void {
    this.eventsScheduled = false;
    for (const e of this.pendingEvents.splice(0)) {
      if (!this.file || this.file.sink.error || this.budget.queued > this.opts!.maxQueueBytes) {
        this.dropped["/safety_events"]++;
        continue;
      }
      this.put("/safety_events", this.logTime(e.timeMs), {
        tick: e.tick,
        from_mode: e.from,
        to_mode: e.to,
        reason: e.reason,
        source: e.source,
      });
    }
  }
}
