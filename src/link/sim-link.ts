// The in-process simulated H1 as a robot link. Lockstep (default): the control loop calls advance() after
// each tick, so one command drives one 10-substep control step and the run is as fast as the CPU allows
// and exactly reproducible. Real time: the simulator advances on its own clock every control period with
// whatever command is latest, so a slow policy shows up as it would on the robot.
import { performance } from "node:perf_hooks";
import { H1_JOINTS } from "../robot/h1.ts";
import { copyCommand, positionCommand, SUBSTEPS_PER_CONTROL_STEP, type MotorCommand } from "../sim/h1-sim.ts";
import { H1TaskEnv } from "../sim/task-env.ts";
import type { LinkState, RobotLink } from "./link.ts";

export interface EpisodeProgress {
  seed: number;
  steps: number;
  return: number;
  lastReward: number;
  terminated: boolean;
  truncated: boolean;
}

export class SimLink implements RobotLink {
  readonly kind = "sim" as const;
  readonly real = false;
  readonly episode: EpisodeProgress = { seed: 0, steps: 0, return: 0, lastReward: 0, terminated: false, truncated: false };
  private readonly command: MotorCommand = positionCommand(H1_JOINTS.map((j) => j.home));
  private stateAtMs = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private onStep: ((e: EpisodeProgress) => void) | null = null;

  private constructor(readonly env: H1TaskEnv) {}

  static async create(task: string, seed = 0, simDir?: string): Promise<SimLink> {
    const link = new SimLink(await H1TaskEnv.create(task, 1, simDir));
    link.reset(seed);
    return link;
  }

  /** Control period of the simulation (s). */
  get dt(): number {
    return this.env.sim.timestep * SUBSTEPS_PER_CONTROL_STEP;
  }

  readState(out: LinkState): boolean {
    const d = this.env.sim.datas[0];
    this.env.sim.readState(0, out.robot);
    // In lockstep the simulated world waits for the loop, so its state is as fresh as a state can be; on
    // its own clock the state is as old as the simulator's last step.
    out.receivedAtMs = this.timer ? this.stateAtMs : performance.now();
    out.qpos ??= new Float64Array(this.env.sim.model.nq);
    out.qvel ??= new Float64Array(this.env.sim.model.nv);
    out.qpos.set(d.qpos as Float64Array);
    out.qvel.set(d.qvel as Float64Array);
    return true;
  }

  send(command: MotorCommand): void {
    copyCommand(command, this.command);
  }

  /** One control step under the latest command; the task's reward and termination are tallied. Once the
   * episode has ended (terminated or 1000 steps) the world stands still until reset(). */
  advance(): EpisodeProgress {
    const e = this.episode;
    if (e.terminated || e.truncated) return e;
    const r = this.env.stepCommand(0, this.command);
    e.steps++;
    e.lastReward = r.reward;
    e.return += r.reward;
    e.terminated ||= r.terminated;
    e.truncated ||= r.truncated;
    this.stateAtMs = performance.now();
    this.onStep?.(e);
    return e;
  }

  /** A new episode: HumanoidBench's reset with this seed; the command holds the home pose. */
  reset(seed: number): void {
    this.env.reset(0, seed);
    positionCommand(H1_JOINTS.map((j) => j.home), this.command);
    Object.assign(this.episode, { seed, steps: 0, return: 0, lastReward: 0, terminated: false, truncated: false });
    this.stateAtMs = performance.now();
  }

  /** Run the simulator on its own clock (absolute deadlines; missed steps are simulated late, not skipped). */
  startRealtime(onStep?: (e: EpisodeProgress) => void): void {
    if (this.timer) return;
    this.onStep = onStep ?? null;
    const periodMs = this.dt * 1000;
    const start = performance.now();
    let steps = 0;
    const run = () => {
      const due = Math.floor((performance.now() - start) / periodMs);
      while (steps < due) {
        this.advance();
        steps++;
      }
      this.timer = setTimeout(run, Math.max(0, start + (steps + 1) * periodMs - performance.now()));
    };
    this.timer = setTimeout(run, periodMs);
  }

  async stopRealtime(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.onStep = null;
  }

  async close(): Promise<void> {
    await this.stopRealtime();
    this.env.dispose();
  }
}
