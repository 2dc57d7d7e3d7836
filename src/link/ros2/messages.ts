// The ROS 2 messages the node publishes besides LowCmd, as plain objects: /joint_states from each tick
// record, /diagnostics from the node's status and counters, the policy's telemetry and the safety events
// as JSON strings (no custom interface package to build on the robot), Trigger responses. Pure: the
// adapter only hands these to rclnodejs, and test/ros2-messages.test.ts checks each against its .msg.
import type { NodeStatus } from "../../api/control.ts";
import { H1_JOINT_NAMES } from "../../robot/h1.ts";
import type { SafetyEvent } from "../../safety/supervisor.ts";
import type { TickRecord } from "../../telemetry/ring.ts";
import type { LatencySummary } from "../../util/stats.ts";
import { urdfJointName } from "../unitree/slots.ts";

export interface Time {
  sec: number;
  nanosec: number;
}
export interface Header {
  stamp: Time;
  frame_id: string;
}
export interface JointState {
  header: Header;
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}
export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}
export interface StringMessage {
  data: string;
}
export interface TriggerResponse {
  success: boolean;
  message: string;
}

export const DIAGNOSTIC_LEVEL = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;

/** The ROS 2 types of what the node publishes and offers (rclnodejs names). */
export const ROS2_TYPES = {
  lowcmd: "unitree_go/msg/LowCmd",
  lowstate: "unitree_go/msg/LowState",
  jointState: "sensor_msgs/msg/JointState",
  diagnostics: "diagnostic_msgs/msg/DiagnosticArray",
  string: "std_msgs/msg/String",
  trigger: "std_srvs/srv/Trigger",
} as const;

/** URDF joint names (h1_description) in the runtime's joint order, as robot_state_publisher wants them. */
export const JOINT_STATE_NAMES: readonly string[] = H1_JOINT_NAMES.map(urdfJointName);

/** A wall-clock time in milliseconds since the epoch as builtin_interfaces/Time. */
export function stampFromEpochMs(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  const nanosec = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
  return { sec, nanosec };
}

export function header(stamp: Time, frameId = ""): Header {
  return { stamp, frame_id: frameId };
}

/** The measured joints of one tick record. */
export function jointStateMessage(rec: Pick<TickRecord, "q" | "dq" | "tauEst">, stamp: Time): JointState {
  return {
    header: header(stamp),
    name: [...JOINT_STATE_NAMES],
    position: Array.from(rec.q),
    velocity: Array.from(rec.dq),
    effort: Array.from(rec.tauEst),
  };
}

/** The policy's side of a tick (when it ran): candidates' scores, the chosen one, the action. */
export function policyTelemetryMessage(rec: TickRecord): StringMessage {
  const scores = Array.from(rec.scores.subarray(0, rec.K));
  return {
    data: JSON.stringify({
      tick: rec.tick,
      mode: rec.mode,
      K: rec.K,
      chosen: rec.chosen,
      scores,
      score_spread: scores.length ? Math.max(...scores) - Math.min(...scores) : 0,
      action: Array.from(rec.action.subarray(0, rec.actionSize)),
      inference_ms: rec.timings.inference,
      selection_ms: rec.timings.selection,
    }),
  };
}

export function safetyEventMessage(e: SafetyEvent): StringMessage {
  return { data: JSON.stringify(e) };
}

export function triggerResponse(success: boolean, message: string): TriggerResponse {
  return { success, message };
}

/** What the adapter counts on its side of the link. */
export interface LinkCounters {
  statesReceived: number;
  commandsPublished: number;
  /** Commands the LowCmd builder refused (non-finite, negative gain): none were published. */
  commandsRefused: number;
  /** Publishers on the LowCmd topic, this node included (1 is right). */
  lowcmdPublishers: number;
  /** Keys down on the remote (names), from the last LowState. */
  remoteKeys: string[];
}

export interface DiagnosticsInput {
  stamp: Time;
  /** Prefix of the status names (the node's name). */
  node: string;
  hardwareId: string;
  status: NodeStatus;
  /** The latest tick record, if any. */
  latest: Pick<TickRecord, "stateAgeMs" | "robotTick" | "mode"> | null;
  ticks: { ticks: number; deadlineMisses: number; overruns: number; nonFinite: number; latency: LatencySummary };
  periodMs: number;
  link: LinkCounters;
}

const kv = (key: string, value: unknown): KeyValue => ({ key, value: typeof value === "string" ? value : JSON.stringify(value) });
const fixed = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));

/** Four statuses: mode, watchdogs, control loop, lowcmd link. */
export function diagnosticsMessage(d: DiagnosticsInput): DiagnosticArray {
  const { status: s, latest, ticks: t, link } = d;
  const age = latest?.stateAgeMs ?? Infinity;
  const stateOk = Number.isFinite(age) && age <= s.params.max_state_age_ms;
  const modeLevel = s.mode === "estop" ? DIAGNOSTIC_LEVEL.ERROR : s.mode === "damping" ? DIAGNOSTIC_LEVEL.WARN : DIAGNOSTIC_LEVEL.OK;
  const slow = t.latency.n > 0 && t.latency.max_ms > d.periodMs;
  return {
    header: header(d.stamp),
    status: [
      {
        level: modeLevel,
        name: `${d.node}: mode`,
        message: `${s.mode}: ${s.reason}`,
        hardware_id: d.hardwareId,
        values: [kv("mode", s.mode), kv("reason", s.reason), kv("policy", s.policy?.name ?? "none"), kv("K", s.policy?.K ?? 0), kv("link", s.link.kind)],
      },
      {
        level: stateOk ? DIAGNOSTIC_LEVEL.OK : DIAGNOSTIC_LEVEL.WARN,
        name: `${d.node}: watchdogs`,
        message: stateOk ? "robot state fresh" : Number.isFinite(age) ? `robot state ${fixed(age)} ms old` : "no robot state",
        hardware_id: d.hardwareId,
        values: [
          kv("state_age_ms", fixed(age)),
          kv("max_state_age_ms", s.params.max_state_age_ms),
          kv("robot_tick", latest?.robotTick ?? -1),
          kv("max_tilt_rad", s.params.max_tilt_rad),
          kv("soft_limit_factor", s.params.soft_limit_factor),
          kv("velocity_limit_factor", s.params.velocity_limit_factor),
          kv("last_events", s.events.slice(-3).map((e) => `${e.from}->${e.to}: ${e.reason}`).join("; ")),
        ],
      },
      {
        level: slow ? DIAGNOSTIC_LEVEL.WARN : DIAGNOSTIC_LEVEL.OK,
        name: `${d.node}: control loop`,
        message: `tick p50 ${t.latency.p50_ms} ms, p99 ${t.latency.p99_ms} ms, max ${t.latency.max_ms} ms`,
        hardware_id: d.hardwareId,
        values: [
          kv("ticks", t.ticks),
          kv("deadline_misses", t.deadlineMisses),
          kv("overruns", t.overruns),
          kv("non_finite", t.nonFinite),
          kv("tick_p50_ms", t.latency.p50_ms),
          kv("tick_p99_ms", t.latency.p99_ms),
          kv("tick_max_ms", t.latency.max_ms),
          kv("period_ms", d.periodMs),
        ],
      },
      {
        level: link.lowcmdPublishers === 1 && link.commandsRefused === 0 ? DIAGNOSTIC_LEVEL.OK : DIAGNOSTIC_LEVEL.WARN,
        name: `${d.node}: lowcmd link`,
        message: link.lowcmdPublishers === 1 ? `${link.commandsPublished} commands published` : `${link.lowcmdPublishers} publishers on the LowCmd topic (expected 1: this node)`,
        hardware_id: d.hardwareId,
        values: [
          kv("states_received", link.statesReceived),
          kv("commands_published", link.commandsPublished),
          kv("commands_refused", link.commandsRefused),
          kv("lowcmd_publishers", link.lowcmdPublishers),
          kv("remote_keys", link.remoteKeys.join("+") || "none"),
        ],
      },
    ],
  };
}
