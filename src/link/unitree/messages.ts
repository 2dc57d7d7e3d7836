// The unitree_go messages as plain objects, field for field as in unitree_ros2's
// cyclonedds_ws/src/unitree/unitree_go/msg/*.msg (copied in src/link/ros2/msg/unitree_go/). What the
// runtime publishes uses plain number arrays; what it receives may carry typed arrays (rclnodejs), hence
// ArrayLike in the state types.
import { NUM_MOTOR_SLOTS, SIZES } from "./constants.ts";

export interface MotorCmd {
  mode: number; // uint8
  q: number; // float32, rad
  dq: number; // float32, rad/s
  tau: number; // float32, N·m feed-forward
  kp: number; // float32
  kd: number; // float32
  reserve: number[]; // uint32[3]
}

export interface BmsCmd {
  off: number; // uint8
  reserve: number[]; // uint8[3]
}

export interface LowCmd {
  head: number[]; // uint8[2]
  level_flag: number; // uint8
  frame_reserve: number; // uint8
  sn: number[]; // uint32[2]
  version: number[]; // uint32[2]
  bandwidth: number; // uint16
  motor_cmd: MotorCmd[]; // [20]
  bms_cmd: BmsCmd;
  wireless_remote: number[]; // uint8[40]
  led: number[]; // uint8[12]
  fan: number[]; // uint8[2]
  gpio: number; // uint8
  reserve: number; // uint32
  crc: number; // uint32
}

export interface MotorState {
  mode: number; // uint8
  q: number; // float32
  dq: number;
  ddq: number;
  tau_est: number;
  q_raw: number;
  dq_raw: number;
  ddq_raw: number;
  temperature: number; // int8
  lost: number; // uint32
  reserve: ArrayLike<number>; // uint32[2]
}

export interface IMUState {
  quaternion: ArrayLike<number>; // float32[4], w x y z
  gyroscope: ArrayLike<number>; // float32[3], rad/s, IMU (torso) frame
  accelerometer: ArrayLike<number>; // float32[3], m/s²
  rpy: ArrayLike<number>; // float32[3]
  temperature: number; // int8
}

export interface BmsState {
  version_high: number; // uint8
  version_low: number;
  status: number;
  soc: number; // uint8, %
  current: number; // int32
  cycle: number; // uint16
  bq_ntc: ArrayLike<number>; // int8[2]
  mcu_ntc: ArrayLike<number>; // int8[2]
  cell_vol: ArrayLike<number>; // uint16[15]
}

export interface LowState {
  head: ArrayLike<number>; // uint8[2]
  level_flag: number;
  frame_reserve: number;
  sn: ArrayLike<number>; // uint32[2]
  version: ArrayLike<number>; // uint32[2]
  bandwidth: number; // uint16
  imu_state: IMUState;
  motor_state: MotorState[]; // [20]
  bms_state: BmsState;
  foot_force: ArrayLike<number>; // int16[4]
  foot_force_est: ArrayLike<number>; // int16[4]
  tick: number; // uint32, 0 until the first real frame
  wireless_remote: ArrayLike<number>; // uint8[40]
  bit_flag: number; // uint8
  adc_reel: number; // float32
  temperature_ntc1: number; // int8
  temperature_ntc2: number; // int8
  power_v: number; // float32
  power_a: number; // float32
  fan_frequency: ArrayLike<number>; // uint16[4]
  reserve: number; // uint32
  crc: number; // uint32
}

/** The decoded remote as unitree_ros2 publishes it on /wirelesscontroller. */
export interface WirelessController {
  lx: number; // float32
  ly: number;
  rx: number;
  ry: number;
  keys: number; // uint16
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

export function emptyMotorCmd(): MotorCmd {
  return { mode: 0, q: 0, dq: 0, tau: 0, kp: 0, kd: 0, reserve: zeros(SIZES.motorCmdReserve) };
}

/** A LowCmd with every field zero (header included). */
export function emptyLowCmd(): LowCmd {
  return {
    head: zeros(SIZES.head),
    level_flag: 0,
    frame_reserve: 0,
    sn: zeros(SIZES.sn),
    version: zeros(SIZES.version),
    bandwidth: 0,
    motor_cmd: Array.from({ length: NUM_MOTOR_SLOTS }, emptyMotorCmd),
    bms_cmd: { off: 0, reserve: zeros(SIZES.bmsCmdReserve) },
    wireless_remote: zeros(SIZES.wirelessRemote),
    led: zeros(SIZES.led),
    fan: zeros(SIZES.fan),
    gpio: 0,
    reserve: 0,
    crc: 0,
  };
}

export function emptyMotorState(): MotorState {
  return { mode: 0, q: 0, dq: 0, ddq: 0, tau_est: 0, q_raw: 0, dq_raw: 0, ddq_raw: 0, temperature: 0, lost: 0, reserve: zeros(SIZES.motorStateReserve) };
}

/** A LowState with every field zero (plain arrays). */
export function emptyLowState(): LowState & { motor_state: MotorState[] } {
  return {
    head: zeros(SIZES.head),
    level_flag: 0,
    frame_reserve: 0,
    sn: zeros(SIZES.sn),
    version: zeros(SIZES.version),
    bandwidth: 0,
    imu_state: { quaternion: zeros(SIZES.quaternion), gyroscope: zeros(3), accelerometer: zeros(3), rpy: zeros(3), temperature: 0 },
    motor_state: Array.from({ length: NUM_MOTOR_SLOTS }, emptyMotorState),
    bms_state: { version_high: 0, version_low: 0, status: 0, soc: 0, current: 0, cycle: 0, bq_ntc: zeros(SIZES.bqNtc), mcu_ntc: zeros(SIZES.mcuNtc), cell_vol: zeros(SIZES.cellVol) },
    foot_force: zeros(SIZES.footForce),
    foot_force_est: zeros(SIZES.footForce),
    tick: 0,
    wireless_remote: zeros(SIZES.wirelessRemote),
    bit_flag: 0,
    adc_reel: 0,
    temperature_ntc1: 0,
    temperature_ntc2: 0,
    power_v: 0,
    power_a: 0,
    fan_frequency: zeros(SIZES.fanFrequency),
    reserve: 0,
    crc: 0,
  };
}
