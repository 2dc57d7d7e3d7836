// unitree_go LowState -> RobotState (the runtime's per-joint state in H1 joint order), by joint name: motor
// q, dq, estimated torque; the torso IMU (quaternion w x y z, gyroscope, accelerometer, in the torso frame:
// the pelvis-frame terms of src/control/observation.ts transform them through the torso joint); the tick.
// And the reverse, for robot-side code (fake robots, the loopback test).
import { H1_NUM_JOINTS } from "../../robot/h1.ts";
import type { RobotState } from "../../sim/h1-sim.ts";
import { emptyLowState, type LowState } from "./messages.ts";
import { JOINT_SLOT } from "./slots.ts";

export function readLowState(msg: LowState, out: RobotState): RobotState {
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const m = msg.motor_state[JOINT_SLOT[j]];
    out.q[j] = m.q;
    out.dq[j] = m.dq;
    out.tauEst[j] = m.tau_est;
  }
  const imu = msg.imu_state;
  for (let k = 0; k < 4; k++) out.imuQuat[k] = imu.quaternion[k];
  for (let k = 0; k < 3; k++) {
    out.imuGyro[k] = imu.gyroscope[k];
    out.imuAcc[k] = imu.accelerometer[k];
  }
  out.tick = msg.tick;
  return out;
}

/** A LowState carrying `state` (float32 like the robot's), the remote's 40 bytes and a tick. */
export function buildLowState(state: RobotState, tick: number, remote?: ArrayLike<number>): ReturnType<typeof emptyLowState> {
  const msg = emptyLowState();
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const m = msg.motor_state[JOINT_SLOT[j]];
    m.q = Math.fround(state.q[j]);
    m.dq = Math.fround(state.dq[j]);
    m.tau_est = Math.fround(state.tauEst[j]);
  }
  msg.imu_state.quaternion = Array.from(state.imuQuat, Math.fround);
  msg.imu_state.gyroscope = Array.from(state.imuGyro, Math.fround);
  msg.imu_state.accelerometer = Array.from(state.imuAcc, Math.fround);
  msg.tick = tick >>> 0;
  if (remote) msg.wireless_remote = Array.from(remote);
  return msg;
}
