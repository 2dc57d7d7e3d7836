// The robot link: the one interface between the control loop and a robot, real or simulated. The runtime
// speaks the H1's motor language on every link: per joint q*, dq*, tau_ff, kp, kd out; per joint q, dq,
// estimated torque, the torso IMU and a tick counter back. How often a command is repeated to the motors
// is the link's business (the real H1 takes 500 Hz; the in-process simulation one per substep group) and
// never waits for the policy.
import type { MotorCommand, RobotState } from "../sim/h1-sim.ts";

export interface LinkState {
  robot: RobotState;
  /** When this state arrived (performance.now() milliseconds). */
  receivedAtMs: number;
  /** Simulation only: the whole model's qpos and qvel (for simulation-only observation terms). */
  qpos?: Float64Array;
  qvel?: Float64Array;
}

/** Copy a robot state (the measured joints, the IMU, the tick) and its arrival time into `out`. */
export function copyLinkState(from: LinkState, out: LinkState): void {
  const s = from.robot;
  const o = out.robot;
  o.q.set(s.q);
  o.dq.set(s.dq);
  o.tauEst.set(s.tauEst);
  o.imuQuat.set(s.imuQuat);
  o.imuGyro.set(s.imuGyro);
  o.imuAcc.set(s.imuAcc);
  o.tick = s.tick;
  out.receivedAtMs = from.receivedAtMs;
}

export interface RobotLink {
  readonly kind: "sim" | "ros2" | "dds";
  /** A real robot: policies that need simulation-only observation terms are refused on it. */
  readonly real: boolean;
  /** Copy the latest state into `out`; false when no state has arrived yet. */
  readState(out: LinkState): boolean;
  /** The latest safe command; the link keeps sending it until the next one. */
  send(command: MotorCommand): void;
  close(): Promise<void>;
}
