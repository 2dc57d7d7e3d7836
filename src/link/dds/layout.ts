// The C struct layouts of the unitree_go LowState_ (1180 bytes) and WirelessController_ (20 bytes) that the
// CycloneDDS addon exchanges with JavaScript (natural alignment, little endian; the addon checks the same
// offsets at compile time, test/dds-layout.test.ts compares them). LowCmd's layout is
// src/link/unitree/lowcmd-layout.ts (the robot's CRC is computed over it). Padding is always zero.
import { H1_NUM_JOINTS } from "../../robot/h1.ts";
import type { RobotState } from "../../sim/h1-sim.ts";
import { NUM_MOTOR_SLOTS, SIZES } from "../unitree/constants.ts";
import { emptyLowState, type LowState, type WirelessController } from "../unitree/messages.ts";
import { JOINT_SLOT } from "../unitree/slots.ts";

export const LOWSTATE_SIZE = 1180;
export const MOTOR_STATE_SIZE = 48;
export const WIRELESS_SIZE = 20;

/** Byte offsets of LowState_. Padding: 22-23, 1145-1147, 1154-1155; inside IMUState_ 53-55. */
export const LOWSTATE_OFFSETS = {
  head: 0,
  level_flag: 2,
  frame_reserve: 3,
  sn: 4,
  version: 12,
  bandwidth: 20,
  imu_state: 24, // quaternion +0, gyroscope +16, accelerometer +28, rpy +40, temperature +52 (56 bytes)
  motor_state: 80, // 20 x 48
  bms_state: 1040, // 44 bytes
  foot_force: 1084,
  foot_force_est: 1092,
  tick: 1100,
  wireless_remote: 1104,
  bit_flag: 1144,
  adc_reel: 1148,
  temperature_ntc1: 1152,
  temperature_ntc2: 1153,
  power_v: 1156,
  power_a: 1160,
  fan_frequency: 1164,
  reserve: 1172,
  crc: 1176,
} as const;

/** Inside one MotorState_ (48 bytes): mode, 3 padding bytes, 7 floats, temperature, 3 padding, lost, reserve[2]. */
export const MOTOR_STATE_OFFSETS = { mode: 0, q: 4, dq: 8, ddq: 12, tau_est: 16, q_raw: 20, dq_raw: 24, ddq_raw: 28, temperature: 32, lost: 36, reserve: 40 } as const;

/** Inside BmsState_ (44 bytes). */
export const BMS_STATE_OFFSETS = { version_high: 0, version_low: 1, status: 2, soc: 3, current: 4, cycle: 8, bq_ntc: 10, mcu_ntc: 12, cell_vol: 14 } as const;

const IMU = { quaternion: 0, gyroscope: 16, accelerometer: 28, rpy: 40, temperature: 52 } as const;

function view(b: Uint8Array, size: number, what: string): DataView {
  if (b.length !== size) throw new RangeError(`a packed ${what} is ${size} bytes, got ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** LowState in its C layout (into `out`, zeroed first). Integer fields are written modulo their width. */
export function packLowState(msg: LowState, out: Uint8Array = new Uint8Array(LOWSTATE_SIZE)): Uint8Array {
  const v = view(out, LOWSTATE_SIZE, "LowState");
  out.fill(0);
  const O = LOWSTATE_OFFSETS;
  const u8s = (a: ArrayLike<number>, n: number, at: number) => {
    for (let i = 0; i < n; i++) v.setUint8(at + i, a[i] & 0xff);
  };
  const f32s = (a: ArrayLike<number>, n: number, at: number) => {
    for (let i = 0; i < n; i++) v.setFloat32(at + 4 * i, a[i], true);
  };
  u8s(msg.head, SIZES.head, O.head);
  v.setUint8(O.level_flag, msg.level_flag & 0xff);
  v.setUint8(O.frame_reserve, msg.frame_reserve & 0xff);
  for (let i = 0; i < 2; i++) v.setUint32(O.sn + 4 * i, msg.sn[i] >>> 0, true);
  for (let i = 0; i < 2; i++) v.setUint32(O.version + 4 * i, msg.version[i] >>> 0, true);
  v.setUint16(O.bandwidth, msg.bandwidth & 0xffff, true);
  const imu = msg.imu_state;
  f32s(imu.quaternion, 4, O.imu_state + IMU.quaternion);
  f32s(imu.gyroscope, 3, O.imu_state + IMU.gyroscope);
  f32s(imu.accelerometer, 3, O.imu_state + IMU.accelerometer);
  f32s(imu.rpy, 3, O.imu_state + IMU.rpy);
  v.setInt8(O.imu_state + IMU.temperature, imu.temperature);
  const M = MOTOR_STATE_OFFSETS;
  for (let s = 0; s < NUM_MOTOR_SLOTS; s++) {
    const m = msg.motor_state[s];
    const at = O.motor_state + MOTOR_STATE_SIZE * s;
    v.setUint8(at + M.mode, m.mode & 0xff);
    v.setFloat32(at + M.q, m.q, true);
    v.setFloat32(at + M.dq, m.dq, true);
    v.setFloat32(at + M.ddq, m.ddq, true);
    v.setFloat32(at + M.tau_est, m.tau_est, true);
    v.setFloat32(at + M.q_raw, m.q_raw, true);
    v.setFloat32(at + M.dq_raw, m.dq_raw, true);
    v.setFloat32(at + M.ddq_raw, m.ddq_raw, true);
    v.setInt8(at + M.temperature, m.temperature);
    v.setUint32(at + M.lost, m.lost >>> 0, true);
    for (let i = 0; i < 2; i++) v.setUint32(at + M.reserve + 4 * i, m.reserve[i] >>> 0, true);
  }
  const B = BMS_STATE_OFFSETS;
  const b = msg.bms_state;
  const bat = O.bms_state;
  v.setUint8(bat + B.version_high, b.version_high);
  v.setUint8(bat + B.version_low, b.version_low);
  v.setUint8(bat + B.status, b.status);
  v.setUint8(bat + B.soc, b.soc);
  v.setInt32(bat + B.current, b.current, true);
  v.setUint16(bat + B.cycle, b.cycle, true);
  for (let i = 0; i < 2; i++) v.setInt8(bat + B.bq_ntc + i, b.bq_ntc[i]);
  for (let i = 0; i < 2; i++) v.setInt8(bat + B.mcu_ntc + i, b.mcu_ntc[i]);
  for (let i = 0; i < SIZES.cellVol; i++) v.setUint16(bat + B.cell_vol + 2 * i, b.cell_vol[i], true);
  for (let i = 0; i < 4; i++) v.setInt16(O.foot_force + 2 * i, msg.foot_force[i], true);
  for (let i = 0; i < 4; i++) v.setInt16(O.foot_force_est + 2 * i, msg.foot_force_est[i], true);
  v.setUint32(O.tick, msg.tick >>> 0, true);
  u8s(msg.wireless_remote, SIZES.wirelessRemote, O.wireless_remote);
  v.setUint8(O.bit_flag, msg.bit_flag & 0xff);
  v.setFloat32(O.adc_reel, msg.adc_reel, true);
  v.setInt8(O.temperature_ntc1, msg.temperature_ntc1);
  v.setInt8(O.temperature_ntc2, msg.temperature_ntc2);
  v.setFloat32(O.power_v, msg.power_v, true);
  v.setFloat32(O.power_a, msg.power_a, true);
  for (let i = 0; i < 4; i++) v.setUint16(O.fan_frequency + 2 * i, msg.fan_frequency[i], true);
  v.setUint32(O.reserve, msg.reserve >>> 0, true);
  v.setUint32(O.crc, msg.crc >>> 0, true);
  return out;
}

/** The whole LowState from its C layout (8-bit temperatures read as int8, as in LowState.msg). */
export function unpackLowState(bytes: Uint8Array): LowState {
  const v = view(bytes, LOWSTATE_SIZE, "LowState");
  const O = LOWSTATE_OFFSETS;
  const u8s = (n: number, at: number) => Array.from({ length: n }, (_, i) => v.getUint8(at + i));
  const f32s = (n: number, at: number) => Array.from({ length: n }, (_, i) => v.getFloat32(at + 4 * i, true));
  const msg = emptyLowState();
  msg.head = u8s(2, O.head);
  msg.level_flag = v.getUint8(O.level_flag);
  msg.frame_reserve = v.getUint8(O.frame_reserve);
  msg.sn = [v.getUint32(O.sn, true), v.getUint32(O.sn + 4, true)];
  msg.version = [v.getUint32(O.version, true), v.getUint32(O.version + 4, true)];
  msg.bandwidth = v.getUint16(O.bandwidth, true);
  msg.imu_state = {
    quaternion: f32s(4, O.imu_state + IMU.quaternion),
    gyroscope: f32s(3, O.imu_state + IMU.gyroscope),
    accelerometer: f32s(3, O.imu_state + IMU.accelerometer),
    rpy: f32s(3, O.imu_state + IMU.rpy),
    temperature: v.getInt8(O.imu_state + IMU.temperature),
  };
  const M = MOTOR_STATE_OFFSETS;
  msg.motor_state = msg.motor_state.map((_, s) => {
    const at = O.motor_state + MOTOR_STATE_SIZE * s;
    return {
      mode: v.getUint8(at + M.mode),
      q: v.getFloat32(at + M.q, true),
      dq: v.getFloat32(at + M.dq, true),
      ddq: v.getFloat32(at + M.ddq, true),
      tau_est: v.getFloat32(at + M.tau_est, true),
      q_raw: v.getFloat32(at + M.q_raw, true),
      dq_raw: v.getFloat32(at + M.dq_raw, true),
      ddq_raw: v.getFloat32(at + M.ddq_raw, true),
      temperature: v.getInt8(at + M.temperature),
      lost: v.getUint32(at + M.lost, true),
      reserve: [v.getUint32(at + M.reserve, true), v.getUint32(at + M.reserve + 4, true)],
    };
  });
  const B = BMS_STATE_OFFSETS;
  const bat = O.bms_state;
  msg.bms_state = {
    version_high: v.getUint8(bat + B.version_high),
    version_low: v.getUint8(bat + B.version_low),
    status: v.getUint8(bat + B.status),
    soc: v.getUint8(bat + B.soc),
    current: v.getInt32(bat + B.current, true),
    cycle: v.getUint16(bat + B.cycle, true),
    bq_ntc: [v.getInt8(bat + B.bq_ntc), v.getInt8(bat + B.bq_ntc + 1)],
    mcu_ntc: [v.getInt8(bat + B.mcu_ntc), v.getInt8(bat + B.mcu_ntc + 1)],
    cell_vol: Array.from({ length: SIZES.cellVol }, (_, i) => v.getUint16(bat + B.cell_vol + 2 * i, true)),
  };
  msg.foot_force = Array.from({ length: 4 }, (_, i) => v.getInt16(O.foot_force + 2 * i, true));
  msg.foot_force_est = Array.from({ length: 4 }, (_, i) => v.getInt16(O.foot_force_est + 2 * i, true));
  msg.tick = v.getUint32(O.tick, true);
  msg.wireless_remote = u8s(SIZES.wirelessRemote, O.wireless_remote);
  msg.bit_flag = v.getUint8(O.bit_flag);
  msg.adc_reel = v.getFloat32(O.adc_reel, true);
  msg.temperature_ntc1 = v.getInt8(O.temperature_ntc1);
  msg.temperature_ntc2 = v.getInt8(O.temperature_ntc2);
  msg.power_v = v.getFloat32(O.power_v, true);
  msg.power_a = v.getFloat32(O.power_a, true);
  msg.fan_frequency = Array.from({ length: 4 }, (_, i) => v.getUint16(O.fan_frequency + 2 * i, true));
  msg.reserve = v.getUint32(O.reserve, true);
  msg.crc = v.getUint32(O.crc, true);
  return msg;
}

/** What the control loop needs of a packed LowState, straight into `out` (no allocation): per joint by
 * slot q, dq, estimated torque; the IMU; the tick. Returns the tick. */
export function readPackedLowState(bytes: Uint8Array, out: RobotState): number {
  const v = view(bytes, LOWSTATE_SIZE, "LowState");
  const O = LOWSTATE_OFFSETS;
  const M = MOTOR_STATE_OFFSETS;
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const at = O.motor_state + MOTOR_STATE_SIZE * JOINT_SLOT[j];
    out.q[j] = v.getFloat32(at + M.q, true);
    out.dq[j] = v.getFloat32(at + M.dq, true);
    out.tauEst[j] = v.getFloat32(at + M.tau_est, true);
  }
  for (let k = 0; k < 4; k++) out.imuQuat[k] = v.getFloat32(O.imu_state + IMU.quaternion + 4 * k, true);
  for (let k = 0; k < 3; k++) {
    out.imuGyro[k] = v.getFloat32(O.imu_state + IMU.gyroscope + 4 * k, true);
    out.imuAcc[k] = v.getFloat32(O.imu_state + IMU.accelerometer + 4 * k, true);
  }
  out.tick = v.getUint32(O.tick, true);
  return out.tick;
}

/** The 40 remote bytes of a packed LowState (a view, not a copy). */
export function packedRemote(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(LOWSTATE_OFFSETS.wireless_remote, LOWSTATE_OFFSETS.wireless_remote + SIZES.wirelessRemote);
}

export function packWireless(msg: WirelessController, out: Uint8Array = new Uint8Array(WIRELESS_SIZE)): Uint8Array {
  const v = view(out, WIRELESS_SIZE, "WirelessController");
  out.fill(0);
  v.setFloat32(0, msg.lx, true);
  v.setFloat32(4, msg.ly, true);
  v.setFloat32(8, msg.rx, true);
  v.setFloat32(12, msg.ry, true);
  v.setUint16(16, msg.keys & 0xffff, true);
  return out;
}

export function unpackWireless(bytes: Uint8Array): WirelessController {
  const v = view(bytes, WIRELESS_SIZE, "WirelessController");
  return { lx: v.getFloat32(0, true), ly: v.getFloat32(4, true), rx: v.getFloat32(8, true), ry: v.getFloat32(12, true), keys: v.getUint16(16, true) };
}
