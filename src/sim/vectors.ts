// Cross-language simulation test vectors: from an initial state and a sequence of motor commands, the
// states, rewards and terminations each side computes. The trainer writes test/fixtures/sim/python-vectors.json
// (trainer/scripts/make_sim_vectors.py) and the runtime writes ts-vectors.json (scripts/make-sim-vectors.ts);
// each side's tests replay the other's. Format: docs/simulation.md.
import { H1_NUM_JOINTS } from "../robot/h1.ts";
import { motorCommand, robotState, type MotorCommand } from "./h1-sim.ts";
import type { SceneName } from "./mujoco.ts";
import { H1TaskEnv } from "./task-env.ts";
import type { TaskName } from "./tasks.ts";

export interface VectorCommand {
  q: number[];
  dq: number[];
  tau: number[];
  kp: number[];
  kd: number[];
}

export interface VectorStep {
  command: VectorCommand;
  qpos: number[];
  qvel: number[];
  reward: number;
  terminated: boolean;
  imu: { quat: number[]; gyro: number[]; acc: number[] };
  tau_est: number[];
}

export interface VectorCase {
  name: string;
  scene: SceneName;
  task: TaskName;
  qpos0: number[];
  qvel0: number[];
  steps: VectorStep[];
}

export interface VectorFile {
  generated_by: string;
  mujoco_version: string;
  cases: VectorCase[];
}

export function toMotorCommand(c: VectorCommand, out: MotorCommand = motorCommand()): MotorCommand {
  for (const key of ["q", "dq", "tau", "kp", "kd"] as const) {
    if (c[key].length !== H1_NUM_JOINTS) throw new Error(`command.${key} has ${c[key].length} values, expected ${H1_NUM_JOINTS}`);
    out[key].set(c[key]);
  }
  return out;
}

/** Replay a case's commands from its initial state; returns the steps as this side computes them. */
export async function replayCase(c: Pick<VectorCase, "task" | "qpos0" | "qvel0"> & { commands: VectorCommand[] }, simDir?: string): Promise<VectorStep[]> {
  const env = await H1TaskEnv.create(c.task, 1, simDir);
  try {
    env.sim.setState(0, c.qpos0, c.qvel0);
    const state = robotState();
    const cmd = motorCommand();
    return c.commands.map((command) => {
      const r = env.stepCommand(0, toMotorCommand(command, cmd));
      const d = env.sim.datas[0];
      env.sim.readState(0, state);
      return {
        command,
        qpos: Array.from(d.qpos as Float64Array),
        qvel: Array.from(d.qvel as Float64Array),
        reward: r.reward,
        terminated: r.terminated,
        imu: { quat: Array.from(state.imuQuat), gyro: Array.from(state.imuGyro), acc: Array.from(state.imuAcc) },
        tau_est: Array.from(state.tauEst),
      };
    });
  } finally {
    env.dispose();
  }
}
