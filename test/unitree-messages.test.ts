// The unitree_go messages of the original H1: the LowCmd C layout field by field against the reference's
// offset table and its Python struct format, zero padding, the slot map and motor modes by joint name,
// slot 9 all zero, LowState decoding by name, and the torso IMU reaching the pelvis-frame terms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ObservationBuilder } from "../src/control/observation.ts";
import { lowCmdCrc } from "../src/link/unitree/crc.ts";
import { LEVEL_FLAG, MOTOR_MODE, NUM_MOTOR_SLOTS, UNUSED_SLOT } from "../src/link/unitree/constants.ts";
import { LowCmdBuilder, lowCmdProblem, motorCommandFromLowCmd } from "../src/link/unitree/lowcmd.ts";
import { LOWCMD_OFFSETS, LOWCMD_SIZE, packLowCmd, unpackLowCmd } from "../src/link/unitree/lowcmd-layout.ts";
import { buildLowState, readLowState } from "../src/link/unitree/lowstate.ts";
import { emptyLowCmd, emptyLowState, type LowCmd } from "../src/link/unitree/messages.ts";
import { H1_MOTOR_SLOTS, JOINT_SLOT, SLOT_MODE, slotOfJoint, urdfJointName } from "../src/link/unitree/slots.ts";
import { H1_JOINT_NAMES, H1_NUM_JOINTS, h1JointIndex } from "../src/robot/h1.ts";
import { motorCommand, robotState } from "../src/sim/h1-sim.ts";

/** Python's struct.unpack for the "<" formats the reference gives (standard sizes, no alignment: the
 * padding is explicit as "x"): an independent reading of the 812 bytes. */
function structUnpack(format: string, bytes: Uint8Array): number[] {
  assert.equal(format[0], "<");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  let at = 0;
  for (const [, count, code] of format.slice(1).matchAll(/(\d*)([BxHIf])/g)) {
    for (let n = 0; n < (count ? Number(count) : 1); n++) {
      if (code === "x") at += 1;
      else if (code === "B") (out.push(v.getUint8(at)), (at += 1));
      else if (code === "H") (out.push(v.getUint16(at, true)), (at += 2));
      else if (code === "I") (out.push(v.getUint32(at, true)), (at += 4));
      else (out.push(v.getFloat32(at, true)), (at += 4));
    }
  }
  assert.equal(at, bytes.length, "the format covers every byte");
  return out;
}
const REFERENCE_FORMAT = "<4B4IH2x" + "B3x5f3I".repeat(20) + "4B" + "55Bx2I";

/** A LowCmd with a distinct non-zero value in every field (floats exactly representable in float32). */
function distinctLowCmd(): LowCmd {
  const m = emptyLowCmd();
  let k = 1;
  const next = () => k++;
  m.head = [next(), next()];
  m.level_flag = next();
  m.frame_reserve = next();
  m.sn = [0x01020304 + next(), 0x0a0b0c0d + next()];
  m.version = [0x11121314 + next(), 0x21222324 + next()];
  m.bandwidth = 0x3132 + next();
  m.motor_cmd = m.motor_cmd.map(() => ({ mode: next(), q: next() + 0.5, dq: -next() - 0.25, tau: next() * 2, kp: next() + 0.125, kd: next() + 0.0625, reserve: [0x40000000 + next(), 0x50000000 + next(), 0x60000000 + next()] }));
  m.bms_cmd = { off: next(), reserve: [next(), next(), next()] };
  m.wireless_remote = Array.from({ length: 40 }, () => next() % 256);
  m.led = Array.from({ length: 12 }, () => next() % 256);
  m.fan = [next() % 256, next() % 256];
  m.gpio = next() % 256;
  m.reserve = 0x71727374;
  m.crc = 0x81828384;
  return m;
}

/** The message's fields flattened in declaration order (what struct.unpack returns for the layout). */
function flatten(m: LowCmd): number[] {
  return [
    ...m.head, m.level_flag, m.frame_reserve, ...m.sn, ...m.version, m.bandwidth,
    ...m.motor_cmd.flatMap((c) => [c.mode, c.q, c.dq, c.tau, c.kp, c.kd, ...c.reserve]),
    m.bms_cmd.off, ...m.bms_cmd.reserve, ...m.wireless_remote, ...m.led, ...m.fan, m.gpio, m.reserve, m.crc,
  ];
}

test("the LowCmd layout is the reference's struct format, 812 bytes", () => {
  const m = distinctLowCmd();
  const packed = packLowCmd(m);
  assert.equal(packed.length, LOWCMD_SIZE);
  assert.equal(LOWCMD_SIZE, 812);
  assert.deepEqual(structUnpack(REFERENCE_FORMAT, packed), flatten(m));
  assert.deepEqual(unpackLowCmd(packed), m, "unpack inverts pack");
});

test("every field sits at the offset of the reference table; padding bytes are zero", () => {
  const m = distinctLowCmd();
  const b = packLowCmd(m);
  const v = new DataView(b.buffer);
  const owned = new Set<number>();
  const u8 = (at: number, value: number) => (assert.equal(b[at], value, `byte ${at}`), owned.add(at));
  const u16 = (at: number, value: number) => (assert.equal(v.getUint16(at, true), value, `u16 at ${at}`), owned.add(at).add(at + 1));
  const u32 = (at: number, value: number) => {
    assert.equal(v.getUint32(at, true), value, `u32 at ${at}`);
    for (let k = 0; k < 4; k++) owned.add(at + k);
  };
  const f32 = (at: number, value: number) => {
    assert.equal(v.getFloat32(at, true), value, `f32 at ${at}`);
    for (let k = 0; k < 4; k++) owned.add(at + k);
  };
  // The table of h1-interface-and-runtimes.md §A4, written out independently of the packer.
  u8(0, m.head[0]);
  u8(1, m.head[1]);
  u8(2, m.level_flag);
  u8(3, m.frame_reserve);
  u32(4, m.sn[0]);
  u32(8, m.sn[1]);
  u32(12, m.version[0]);
  u32(16, m.version[1]);
  u16(20, m.bandwidth);
  for (let i = 0; i < 20; i++) {
    const at = 24 + 36 * i;
    const c = m.motor_cmd[i];
    u8(at, c.mode);
    f32(at + 4, c.q);
    f32(at + 8, c.dq);
    f32(at + 12, c.tau);
    f32(at + 16, c.kp);
    f32(at + 20, c.kd);
    for (let r = 0; r < 3; r++) u32(at + 24 + 4 * r, c.reserve[r]);
  }
  u8(744, m.bms_cmd.off);
  for (let r = 0; r < 3; r++) u8(745 + r, m.bms_cmd.reserve[r]);
  for (let r = 0; r < 40; r++) u8(748 + r, m.wireless_remote[r]);
  for (let r = 0; r < 12; r++) u8(788 + r, m.led[r]);
  u8(800, m.fan[0]);
  u8(801, m.fan[1]);
  u8(802, m.gpio);
  u32(804, m.reserve);
  u32(808, m.crc);
  const padding = [22, 23, ...Array.from({ length: 20 }, (_, i) => [25, 26, 27].map((p) => p + 36 * i)).flat(), 803];
  for (const p of padding) {
    assert.ok(!owned.has(p), `byte ${p} is padding`);
    assert.equal(b[p], 0, `padding byte ${p} is zero`);
  }
  assert.equal(owned.size + padding.length, 812, "fields and padding cover the layout");
  assert.deepEqual(LOWCMD_OFFSETS, { head: 0, level_flag: 2, frame_reserve: 3, sn: 4, version: 12, bandwidth: 20, motor_cmd: 24, bms_cmd: 744, wireless_remote: 748, led: 788, fan: 800, gpio: 802, reserve: 804, crc: 808 });
});

test("padding is zero even when the output buffer held garbage", () => {
  const b = new Uint8Array(812).fill(0xff);
  packLowCmd(emptyLowCmd(), b);
  assert.ok(b.every((x) => x === 0));
});

test("packing refuses what the C types cannot hold instead of wrapping it", () => {
  const bad = (edit: (m: LowCmd) => void, pattern: RegExp) => {
    const m = emptyLowCmd();
    edit(m);
    assert.throws(() => packLowCmd(m), pattern);
  };
  bad((m) => (m.level_flag = 256), /level_flag = 256 is not a uint8/);
  bad((m) => (m.motor_cmd[3].mode = -1), /motor_cmd\[3\]\.mode = -1/);
  bad((m) => (m.bandwidth = 1.5), /bandwidth/);
  bad((m) => (m.crc = 2 ** 32), /crc/);
  bad((m) => (m.motor_cmd[0].q = NaN), /motor_cmd\[0\]\.q = NaN is not a finite float32/);
  bad((m) => (m.motor_cmd[5].kp = Infinity), /motor_cmd\[5\]\.kp/);
  bad((m) => (m.motor_cmd[5].kd = 1e39), /motor_cmd\[5\]\.kd/);
  bad((m) => (m.led = [1, 2]), /led has 2 entries, unitree_go has 12/);
  bad((m) => m.motor_cmd.pop(), /motor_cmd has 19 entries/);
});

test("the slot map by joint name: the SDK's JointIndex, rl_gym's index lists, slot 9 free", () => {
  assert.equal(H1_MOTOR_SLOTS.length, NUM_MOTOR_SLOTS);
  assert.equal(H1_MOTOR_SLOTS[UNUSED_SLOT], null);
  const expected: Record<string, number> = {
    right_hip_roll_joint: 0, right_hip_pitch_joint: 1, right_knee_joint: 2, left_hip_roll_joint: 3, left_hip_pitch_joint: 4,
    left_knee_joint: 5, torso_joint: 6, left_hip_yaw_joint: 7, right_hip_yaw_joint: 8, left_ankle_joint: 10, right_ankle_joint: 11,
    right_shoulder_pitch_joint: 12, right_shoulder_roll_joint: 13, right_shoulder_yaw_joint: 14, right_elbow_joint: 15,
    left_shoulder_pitch_joint: 16, left_shoulder_roll_joint: 17, left_shoulder_yaw_joint: 18, left_elbow_joint: 19,
  };
  for (const [urdf, slot] of Object.entries(expected)) assert.equal(slotOfJoint(urdf), slot, urdf);
  for (const name of H1_JOINT_NAMES) assert.equal(JOINT_SLOT[h1JointIndex(name)], expected[urdfJointName(name)], name);
  // unitree_rl_gym deploy_real/configs/h1.yaml, in URDF order.
  const legs = ["left_hip_yaw", "left_hip_roll", "left_hip_pitch", "left_knee", "left_ankle", "right_hip_yaw", "right_hip_roll", "right_hip_pitch", "right_knee", "right_ankle"];
  assert.deepEqual(legs.map(slotOfJoint), [7, 3, 4, 5, 10, 8, 0, 1, 2, 11]);
  const armWaist = ["torso", "left_shoulder_pitch", "left_shoulder_roll", "left_shoulder_yaw", "left_elbow", "right_shoulder_pitch", "right_shoulder_roll", "right_shoulder_yaw", "right_elbow"];
  assert.deepEqual(armWaist.map(slotOfJoint), [6, 16, 17, 18, 19, 12, 13, 14, 15]);
  assert.throws(() => slotOfJoint("tail_joint"), /no H1 motor slot/);
});

test("motor modes: strong 0x0A for hips, knees and torso, weak 0x01 for ankles and arms, 0 for slot 9", () => {
  assert.deepEqual(SLOT_MODE, [0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x00, ...new Array(10).fill(0x01)]);
  assert.equal(MOTOR_MODE.STRONG, 0x0a);
  assert.equal(MOTOR_MODE.WEAK, 0x01);
});

test("the builder: header, modes and values by joint name, float32, slot 9 all zero, everything else zero", () => {
  const cmd = motorCommand();
  H1_JOINT_NAMES.forEach((name, j) => {
    cmd.q[j] = 0.1 * (j + 1);
    cmd.dq[j] = -0.01 * j;
    cmd.tau[j] = j / 3;
    cmd.kp[j] = 10 + j;
    cmd.kd[j] = 0.5 + j / 7;
  });
  const builder = new LowCmdBuilder();
  const msg = builder.build(cmd);
  assert.deepEqual(msg.head, [0xfe, 0xef]);
  assert.equal(msg.level_flag, LEVEL_FLAG.LOWLEVEL);
  for (const name of H1_JOINT_NAMES) {
    const j = h1JointIndex(name);
    const m = msg.motor_cmd[slotOfJoint(name)];
    assert.equal(m.mode, /ankle|shoulder|elbow/.test(name) ? 0x01 : 0x0a, name);
    assert.equal(m.q, Math.fround(cmd.q[j]));
    assert.equal(m.dq, Math.fround(cmd.dq[j]));
    assert.equal(m.tau, Math.fround(cmd.tau[j]));
    assert.equal(m.kp, Math.fround(cmd.kp[j]));
    assert.equal(m.kd, Math.fround(cmd.kd[j]));
    assert.deepEqual(m.reserve, [0, 0, 0]);
  }
  assert.deepEqual(msg.motor_cmd[9], { mode: 0, q: 0, dq: 0, tau: 0, kp: 0, kd: 0, reserve: [0, 0, 0] });
  const packed = packLowCmd(msg);
  assert.ok(packed.subarray(24 + 36 * 9, 24 + 36 * 10).every((x) => x === 0), "slot 9's 36 bytes are zero");
  assert.ok(packed.subarray(744, 808).every((x) => x === 0), "bms, remote, led, fan, gpio, reserve are zero");
  assert.ok(packed.subarray(4, 24).every((x) => x === 0), "sn, version, bandwidth are zero");
  assert.equal(lowCmdProblem(msg), null);
  builder.message.motor_cmd[9].kp = 5; // whatever happened to the reused message, slot 9 goes out zero
  assert.equal(builder.build(cmd).motor_cmd[9].kp, 0);
  const back = motorCommandFromLowCmd(msg, motorCommand());
  for (const k of ["q", "dq", "tau", "kp", "kd"] as const) assert.deepEqual(back[k], Float64Array.from(cmd[k], Math.fround));
});

test("the builder refuses non-finite values and negative gains", () => {
  const builder = new LowCmdBuilder();
  const cmd = motorCommand();
  cmd.q[4] = NaN;
  assert.throws(() => builder.build(cmd), /not a finite float32/);
  cmd.q[4] = 0;
  cmd.kp[2] = -1;
  assert.throws(() => builder.build(cmd), /gains must be finite and >= 0/);
  cmd.kp[2] = 0;
  cmd.kd[2] = NaN;
  assert.throws(() => builder.build(cmd), /gains must be finite and >= 0/);
});

test("the robot-side check catches a wrong CRC, header, slot 9 and modes", () => {
  const builder = new LowCmdBuilder();
  const ok = () => structuredClone(builder.build(motorCommand()));
  const problem = (edit: (m: LowCmd) => void) => {
    const m = ok();
    edit(m);
    return lowCmdProblem(m);
  };
  assert.equal(problem(() => {}), null);
  assert.match(problem((m) => (m.crc ^= 1))!, /crc is/);
  assert.match(problem((m) => (m.motor_cmd[0].q = 0.5))!, /crc is/, "a changed field without a new CRC");
  assert.match(problem((m) => (m.head = [0xfe, 0xee]))!, /head/);
  assert.match(problem((m) => (m.level_flag = 0xee))!, /level_flag/);
  const withCrc = (edit: (m: LowCmd) => void) => problem((m) => (edit(m), (m.crc = lowCmdCrc(m))));
  assert.match(withCrc((m) => (m.motor_cmd[9].mode = 0x0a))!, /slot 9 \(unused\) is not all zero/);
  assert.match(withCrc((m) => (m.motor_cmd[9].kd = 1))!, /slot 9/);
  assert.match(withCrc((m) => (m.motor_cmd[slotOfJoint("left_ankle")].mode = 0x0a))!, /slot 10: mode 0xa, expected 0x1/);
  assert.match(withCrc((m) => (m.motor_cmd[slotOfJoint("left_knee")].mode = 0x01))!, /slot 5: mode 0x1, expected 0xa/);
});

test("LowState decodes into the runtime's joint order by name, with the torso IMU and tick", () => {
  const msg = emptyLowState();
  msg.motor_state.forEach((m, slot) => {
    m.q = slot + 0.5;
    m.dq = -slot;
    m.tau_est = slot * 2;
  });
  msg.imu_state.quaternion = [0.5, 0.5, -0.5, 0.5];
  msg.imu_state.gyroscope = [1, 2, 3];
  msg.imu_state.accelerometer = [0, 0, 9.81];
  msg.tick = 123456;
  const s = readLowState(msg, robotState());
  for (const name of H1_JOINT_NAMES) {
    const j = h1JointIndex(name);
    const slot = slotOfJoint(name);
    assert.equal(s.q[j], slot + 0.5, name);
    assert.equal(s.dq[j], -slot);
    assert.equal(s.tauEst[j], slot * 2);
  }
  assert.deepEqual(Array.from(s.imuQuat), [0.5, 0.5, -0.5, 0.5]);
  assert.deepEqual(Array.from(s.imuGyro), [1, 2, 3]);
  assert.deepEqual(Array.from(s.imuAcc), [0, 0, 9.81]);
  assert.equal(s.tick, 123456);
  // and back: a fake robot's LowState carries the same state
  const again = readLowState(buildLowState(s, s.tick), robotState());
  assert.deepEqual(again.q, s.q);
  assert.equal(again.tick, 123456);
});

/** Hamilton product and axis-angle quaternions (w x y z), for building test orientations. */
const qmul = (a: number[], b: number[]) => [
  a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
  a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
  a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
  a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
];
const axisAngle = (axis: number[], angle: number) => [Math.cos(angle / 2), ...axis.map((x) => x * Math.sin(angle / 2))];
/** v expressed in the frame of q (body to world): R(q)^T v. */
function intoFrame(q: number[], v: number[]): number[] {
  const conj = [q[0], -q[1], -q[2], -q[3]];
  return qmul(qmul(conj, [0, ...v]), q).slice(1);
}

test("the torso IMU of a LowState reaches the pelvis frame through the torso joint", () => {
  // Pelvis pitched and rolled, torso joint (yaw about the pelvis z axis) at 0.7 rad, turning at 0.3 rad/s.
  const pelvis = qmul(axisAngle([0, 1, 0], 0.25), axisAngle([1, 0, 0], -0.15));
  const torsoAngle = 0.7;
  const torsoRate = 0.3;
  const torso = qmul(pelvis, axisAngle([0, 0, 1], torsoAngle));
  const omegaPelvis = [0.2, -0.4, 0.1]; // pelvis angular velocity in the pelvis frame
  // The torso's angular velocity in its own frame: Rz(q)^T (w_pelvis + [0, 0, dq]).
  const omegaTorso = intoFrame(axisAngle([0, 0, 1], torsoAngle), [omegaPelvis[0], omegaPelvis[1], omegaPelvis[2] + torsoRate]);
  const msg = emptyLowState();
  msg.imu_state.quaternion = torso;
  msg.imu_state.gyroscope = omegaTorso;
  msg.motor_state[slotOfJoint("torso")].q = torsoAngle;
  msg.motor_state[slotOfJoint("torso")].dq = torsoRate;
  const state = readLowState(msg, robotState());
  const terms = [
    { name: "projected_gravity_pelvis", size: 3, sim_only: false },
    { name: "angular_velocity_pelvis", size: 3, sim_only: false },
  ];
  const obs = new Float32Array(6);
  new ObservationBuilder(terms).build({ state, lastAction: [], velocityCommand: [0, 0, 0], timeS: 0 }, obs);
  const gravity = intoFrame(pelvis, [0, 0, -1]);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(obs[k] - gravity[k]) < 1e-6, `gravity[${k}] ${obs[k]} vs ${gravity[k]}`);
    assert.ok(Math.abs(obs[3 + k] - omegaPelvis[k]) < 1e-6, `omega[${k}] ${obs[3 + k]} vs ${omegaPelvis[k]}`);
  }
  assert.equal(H1_NUM_JOINTS, 19);
});
