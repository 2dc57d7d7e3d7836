// The ROS 2 messages the node publishes, checked without ROS 2: against the .msg definitions in
// src/link/ros2/msg/ (parsed with @foxglove/rosmsg), and through the CDR encoding ROS 2 puts on the wire
// (@foxglove/rosmsg2-serialization's writer and reader). The standard definitions are also compared with
// an independent copy (@foxglove/rosmsg-msgs-common, Humble).
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { ros2humble } from "@foxglove/rosmsg-msgs-common";
import type { NodeStatus } from "../src/api/control.ts";
import { messageDefinitions, serviceDefinitions, type MessageDefinition } from "../src/link/ros2/definitions.ts";
import {
  diagnosticsMessage,
  DIAGNOSTIC_LEVEL,
  jointStateMessage,
  JOINT_STATE_NAMES,
  policyTelemetryMessage,
  safetyEventMessage,
  stampFromEpochMs,
  triggerResponse,
  type DiagnosticsInput,
} from "../src/link/ros2/messages.ts";
import { messageProblems } from "../src/link/ros2/msg-check.ts";
import { lowCmdCrc, packedLowCmdCrc } from "../src/link/unitree/crc.ts";
import { LowCmdBuilder, lowCmdProblem } from "../src/link/unitree/lowcmd.ts";
import { buildLowState, readLowState } from "../src/link/unitree/lowstate.ts";
import { emptyLowCmd, emptyLowState, type LowCmd, type LowState } from "../src/link/unitree/messages.ts";
import { encodeRemote } from "../src/link/unitree/remote.ts";
import { H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { motorCommand, robotState } from "../src/sim/h1-sim.ts";
import { TelemetryRing } from "../src/telemetry/ring.ts";

/** Typed arrays (what the CDR reader returns) as plain arrays, for deep comparison. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Checked against its definition, written as CDR, read back: the same message. Returns the CDR bytes. */
function conformsAndRoundTrips(type: string, message: unknown, defs: MessageDefinition[] = messageDefinitions(type)): Uint8Array {
  assert.deepEqual(messageProblems(defs, message), [], `${type} matches its definition`);
  const bytes = new MessageWriter(defs).writeMessage(message);
  const reader = new MessageReader(defs);
  const back = reader.readMessage(bytes);
  assert.equal(reader.lastReadHadTrailingBytes(), false, `${type}: no trailing bytes`);
  assert.deepEqual(plain(back), plain(message), `${type} survives CDR`);
  return bytes;
}

/** A definition's fields without the parser's incidental properties. */
const shape = (defs: readonly { name?: string; definitions: readonly Record<string, unknown>[] }[]) =>
  defs.map((d) => ({
    name: d.name,
    fields: d.definitions.map((f) => ({ name: f.name, type: f.type, isArray: f.isArray ?? false, arrayLength: f.arrayLength, isConstant: f.isConstant ?? false, value: f.value })),
  }));

test("the standard .msg files match an independent copy of the Humble definitions", () => {
  const humble = ros2humble as unknown as Record<string, { name?: string; definitions: Record<string, unknown>[] }>;
  for (const type of ["sensor_msgs/JointState", "diagnostic_msgs/DiagnosticArray", "diagnostic_msgs/DiagnosticStatus", "diagnostic_msgs/KeyValue", "std_msgs/Header", "std_msgs/String"]) {
    const mine = messageDefinitions(type);
    assert.deepEqual(shape([mine[0]]), shape([humble[type]]), type);
    for (const dep of mine.slice(1)) assert.deepEqual(shape([dep]), shape([humble[dep.name!]]), `${type} -> ${dep.name}`);
  }
});

test("the unitree_go definitions have the reference's fields and array sizes", () => {
  const fields = (type: string) => messageDefinitions(type)[0].definitions.map((f) => `${f.type}${f.isArray ? `[${f.arrayLength ?? ""}]` : ""} ${f.name}`);
  assert.deepEqual(fields("unitree_go/LowCmd"), [
    "uint8[2] head", "uint8 level_flag", "uint8 frame_reserve", "uint32[2] sn", "uint32[2] version", "uint16 bandwidth",
    "unitree_go/MotorCmd[20] motor_cmd", "unitree_go/BmsCmd bms_cmd", "uint8[40] wireless_remote", "uint8[12] led", "uint8[2] fan",
    "uint8 gpio", "uint32 reserve", "uint32 crc",
  ]);
  assert.deepEqual(fields("unitree_go/MotorCmd"), ["uint8 mode", "float32 q", "float32 dq", "float32 tau", "float32 kp", "float32 kd", "uint32[3] reserve"]);
  assert.deepEqual(fields("unitree_go/BmsCmd"), ["uint8 off", "uint8[3] reserve"]);
  assert.deepEqual(fields("unitree_go/LowState"), [
    "uint8[2] head", "uint8 level_flag", "uint8 frame_reserve", "uint32[2] sn", "uint32[2] version", "uint16 bandwidth",
    "unitree_go/IMUState imu_state", "unitree_go/MotorState[20] motor_state", "unitree_go/BmsState bms_state", "int16[4] foot_force",
    "int16[4] foot_force_est", "uint32 tick", "uint8[40] wireless_remote", "uint8 bit_flag", "float32 adc_reel", "int8 temperature_ntc1",
    "int8 temperature_ntc2", "float32 power_v", "float32 power_a", "uint16[4] fan_frequency", "uint32 reserve", "uint32 crc",
  ]);
  assert.deepEqual(fields("unitree_go/MotorState"), ["uint8 mode", "float32 q", "float32 dq", "float32 ddq", "float32 tau_est", "float32 q_raw", "float32 dq_raw", "float32 ddq_raw", "int8 temperature", "uint32 lost", "uint32[2] reserve"]);
  assert.deepEqual(fields("unitree_go/IMUState"), ["float32[4] quaternion", "float32[3] gyroscope", "float32[3] accelerometer", "float32[3] rpy", "int8 temperature"]);
  assert.deepEqual(fields("unitree_go/BmsState"), ["uint8 version_high", "uint8 version_low", "uint8 status", "uint8 soc", "int32 current", "uint16 cycle", "int8[2] bq_ntc", "int8[2] mcu_ntc", "uint16[15] cell_vol"]);
  assert.deepEqual(fields("unitree_go/WirelessController"), ["float32 lx", "float32 ly", "float32 rx", "float32 ry", "uint16 keys"]);
});

test("the TypeScript message objects are exactly the definitions (empty ones included)", () => {
  conformsAndRoundTrips("unitree_go/LowCmd", emptyLowCmd());
  conformsAndRoundTrips("unitree_go/LowState", emptyLowState());
  conformsAndRoundTrips("unitree_go/WirelessController", { lx: 0.5, ly: -0.25, rx: 0, ry: 1, keys: 0x8220 });
});

test("the LowCmd the node publishes conforms, survives CDR, and keeps its CRC valid on the far side", () => {
  const cmd = motorCommand();
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    cmd.q[j] = Math.sin(j) * 0.7;
    cmd.dq[j] = 0.1 * j;
    cmd.tau[j] = -j;
    cmd.kp[j] = 40 + 10 * j;
    cmd.kd[j] = 1 + j / 10;
  }
  const msg = new LowCmdBuilder().build(cmd);
  const cdr = conformsAndRoundTrips("unitree_go/LowCmd", msg);
  const received = new MessageReader(messageDefinitions("unitree_go/LowCmd")).readMessage<LowCmd>(cdr);
  assert.equal(lowCmdProblem(plain(received) as LowCmd), null, "the robot's check passes on what arrives");
  // The pitfall: the CRC is over the C layout. The CDR bytes are laid out differently (MotorCmd.mode at
  // payload offset 22, not 24), so a CRC over them would be wrong.
  const payload = cdr.subarray(4);
  assert.equal(payload[22], msg.motor_cmd[0].mode, "CDR puts motor 0's mode right after bandwidth");
  const cdrAsLayout = new Uint8Array(812);
  cdrAsLayout.set(payload.subarray(0, 812));
  assert.notEqual(packedLowCmdCrc(cdrAsLayout), msg.crc, "a CRC over the CDR bytes is not the robot's");
  assert.equal(lowCmdCrc(msg), msg.crc);
  const unrounded = structuredClone(msg);
  unrounded.motor_cmd[0].q = 0.1; // not a float32: the wire would carry another value than the CRC covered
  assert.match(messageProblems(messageDefinitions("unitree_go/LowCmd"), unrounded).join(), /motor_cmd\[0\]\.q: 0\.1 is not exactly a float32/);
});

test("LowState as rclnodejs delivers it (typed arrays after CDR) decodes by joint name", () => {
  const s = robotState();
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    s.q[j] = j * 0.125;
    s.dq[j] = -j * 0.5;
    s.tauEst[j] = j;
  }
  s.imuQuat.set([1, 0, 0, 0]);
  s.imuGyro.set([0.5, -0.25, 0.125]);
  s.imuAcc.set([0, 0, 9.8125]);
  const msg = buildLowState(s, 4242, encodeRemote({ keys: 0x0104 }));
  const defs = messageDefinitions("unitree_go/LowState");
  conformsAndRoundTrips("unitree_go/LowState", msg);
  const wire = new MessageReader(defs).readMessage<LowState>(new MessageWriter(defs).writeMessage(msg));
  assert.ok(ArrayBuffer.isView(wire.wireless_remote), "the reader hands out typed arrays, as rclnodejs does");
  const back = readLowState(wire, robotState());
  assert.deepEqual(back.q, s.q);
  assert.deepEqual(back.dq, s.dq);
  assert.deepEqual(back.tauEst, s.tauEst);
  assert.deepEqual(back.imuGyro, s.imuGyro);
  assert.equal(back.tick, 4242);
});

test("/joint_states: URDF names in the runtime's joint order, the measured state, a valid stamp", () => {
  const ring = new TelemetryRing(10);
  const rec = ring.next();
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    rec.q[j] = j / 10;
    rec.dq[j] = -j;
    rec.tauEst[j] = 2 * j;
  }
  const stamp = stampFromEpochMs(1_700_000_000_123.5);
  assert.deepEqual(stamp, { sec: 1_700_000_000, nanosec: 123_500_000 });
  const msg = jointStateMessage(rec, stamp);
  conformsAndRoundTrips("sensor_msgs/JointState", msg);
  assert.equal(msg.name.length, 19);
  assert.equal(msg.name[0], "left_hip_yaw_joint");
  assert.equal(msg.name[10], "torso_joint");
  assert.deepEqual(msg.name, JOINT_STATE_NAMES);
  assert.deepEqual(msg.position, Array.from(rec.q));
  assert.deepEqual(msg.effort, Array.from(rec.tauEst));
  assert.equal(stampFromEpochMs(999.9999999).nanosec <= 999_999_999, true);
});

function status(mode: NodeStatus["mode"]): NodeStatus {
  return {
    mode,
    reason: "test",
    policy: null,
    link: { kind: "ros2", real: true },
    params: { K: null, soft_start_s: 1, standup_s: 2, soft_limit_factor: 0.95, velocity_limit_factor: 1, max_tilt_rad: 0.8, max_state_age_ms: 60, velocity_command: null },
    episode: null,
    events: [{ tick: 3, from: "passive", to: "estop", reason: "remote L2+B", source: "request" }],
  };
}

function diagnosticsInput(mode: NodeStatus["mode"], stateAgeMs: number, lowcmdPublishers = 1): DiagnosticsInput {
  return {
    stamp: stampFromEpochMs(Date.now()),
    node: "h1_runtime",
    hardwareId: "/h1_runtime",
    status: status(mode),
    latest: { stateAgeMs, robotTick: 99, mode },
    ticks: { ticks: 500, deadlineMisses: 2, overruns: 0, nonFinite: 0, latency: { n: 500, p50_ms: 1.2, p99_ms: 4.5, max_ms: 6, mean_ms: 1.5 } },
    periodMs: 20,
    link: { statesReceived: 5000, commandsPublished: 500, commandsRefused: 0, lowcmdPublishers, remoteKeys: ["L2", "B"] },
  };
}

test("/diagnostics: mode, watchdogs, tick statistics and the link, with levels that mean something", () => {
  const ok = diagnosticsMessage(diagnosticsInput("hold", 3));
  conformsAndRoundTrips("diagnostic_msgs/DiagnosticArray", ok);
  assert.deepEqual(ok.status.map((s) => s.name), ["h1_runtime: mode", "h1_runtime: watchdogs", "h1_runtime: control loop", "h1_runtime: lowcmd link"]);
  assert.deepEqual(ok.status.map((s) => s.level), [0, 0, 0, 0]);
  const value = (m: typeof ok, status: number, key: string) => m.status[status].values.find((v) => v.key === key)?.value;
  assert.equal(value(ok, 2, "deadline_misses"), "2");
  assert.equal(value(ok, 2, "tick_p99_ms"), "4.5");
  assert.equal(value(ok, 1, "robot_tick"), "99");
  assert.equal(value(ok, 3, "remote_keys"), "L2+B");
  const bad = diagnosticsMessage(diagnosticsInput("estop", 500, 2));
  conformsAndRoundTrips("diagnostic_msgs/DiagnosticArray", bad);
  assert.equal(bad.status[0].level, DIAGNOSTIC_LEVEL.ERROR);
  assert.equal(bad.status[1].level, DIAGNOSTIC_LEVEL.WARN);
  assert.match(bad.status[1].message, /500\.000 ms old/);
  assert.equal(bad.status[3].level, DIAGNOSTIC_LEVEL.WARN);
  assert.match(bad.status[3].message, /2 publishers/);
  const none = diagnosticsMessage({ ...diagnosticsInput("damping", 0), latest: null });
  conformsAndRoundTrips("diagnostic_msgs/DiagnosticArray", none);
  assert.equal(none.status[0].level, DIAGNOSTIC_LEVEL.WARN);
  assert.equal(none.status[1].message, "no robot state");
});

test("policy telemetry and safety events are std_msgs/String with JSON", () => {
  const ring = new TelemetryRing(10, 4, 2, 3);
  const rec = ring.next();
  Object.assign(rec, { tick: 7, mode: "policy", K: 3, chosen: 1, actionSize: 2, policyRan: true });
  rec.scores.set([0.5, 2, 1]);
  rec.action.set([0.25, -0.5]);
  const msg = policyTelemetryMessage(rec);
  conformsAndRoundTrips("std_msgs/String", msg);
  const data = JSON.parse(msg.data);
  assert.deepEqual({ ...data, inference_ms: 0, selection_ms: 0 }, { tick: 7, mode: "policy", K: 3, chosen: 1, scores: [0.5, 2, 1], score_spread: 1.5, action: [0.25, -0.5], inference_ms: 0, selection_ms: 0 });
  const e = safetyEventMessage({ tick: 1, from: "hold", to: "damping", reason: "robot state is 80 ms old", source: "watchdog" });
  conformsAndRoundTrips("std_msgs/String", e);
  assert.equal(JSON.parse(e.data).to, "damping");
});

test("service answers are std_srvs/Trigger responses", () => {
  const { request, response } = serviceDefinitions("std_srvs/Trigger");
  assert.deepEqual(request[0].definitions, []);
  conformsAndRoundTrips("std_srvs/Trigger_Response", triggerResponse(false, "policy is not reachable from passive"), response);
});

test("the conformance check fails on what ROS 2 would reject or mangle", () => {
  const defs = messageDefinitions("unitree_go/LowCmd");
  const problems = (edit: (m: any) => void) => {
    const m: any = emptyLowCmd();
    edit(m);
    return messageProblems(defs, m).join("\n");
  };
  assert.match(problems((m) => delete m.gpio), /msg\.gpio: missing/);
  assert.match(problems((m) => (m.extra = 1)), /msg\.extra: not in the definition/);
  assert.match(problems((m) => (m.led = [0])), /msg\.led: 1 entries, the definition has 12/);
  assert.match(problems((m) => m.motor_cmd.pop()), /msg\.motor_cmd: 19 entries/);
  assert.match(problems((m) => (m.level_flag = 256)), /msg\.level_flag: 256 is not a uint8/);
  assert.match(problems((m) => (m.crc = -1)), /msg\.crc: -1 is not a uint32/);
  assert.match(problems((m) => (m.motor_cmd[4].kd = NaN)), /motor_cmd\[4\]\.kd: NaN is not finite/);
  assert.match(problems((m) => (m.motor_cmd[4].q = "0")), /motor_cmd\[4\]\.q: expected a number/);
  assert.match(problems((m) => (m.bms_cmd = [1])), /msg\.bms_cmd: expected a message object/);
  assert.match(problems((m) => delete m.motor_cmd[2].reserve), /motor_cmd\[2\]\.reserve: missing/);
  const header = messageDefinitions("sensor_msgs/JointState");
  assert.match(messageProblems(header, { header: { stamp: { sec: 1, nanosec: 1e9 }, frame_id: "" }, name: [], position: [], velocity: [], effort: [] }).join(), /nanosec/);
  assert.match(messageProblems(header, { header: { stamp: { sec: 1, nsec: 0 }, frame_id: "" }, name: [], position: [], velocity: [], effort: [] }).join(), /exactly \{sec, nanosec\}/);
});
