// N worlds of one HumanoidBench task, stepped at 50 Hz: HumanoidBench's action mapping, reset (keyframe
// `home` plus uniform ±0.01 on every qpos entry, seeded), observation (qpos and qvel of the whole model),
// reward, termination and the 1000-step limit.
import { H1_JOINTS, H1_NUM_JOINTS } from "../robot/h1.ts";
import { SeededNormal } from "../policy/noise.ts";
import { H1Sim, motorCommand, positionCommand, type MotorCommand } from "./h1-sim.ts";
import { balanceGeoms, emptyTerms, reward, taskByName, terminated, type BalanceGeoms, type RewardTerms, type TaskSpec } from "./tasks.ts";

export const RESET_NOISE = 0.01;

export interface StepResult {
  reward: number;
  terminated: boolean;
  truncated: boolean;
  terms: RewardTerms;
}

export class H1TaskEnv {
  readonly task: TaskSpec;
  readonly obsSize: number;
  private readonly steps: number[];
  private readonly geoms: BalanceGeoms | null;
  private readonly command: MotorCommand = motorCommand();
  private readonly targets = new Float64Array(H1_NUM_JOINTS);

  private constructor(
    readonly sim: H1Sim,
    task: TaskSpec,
  ) {
    this.task = task;
    this.obsSize = sim.model.nq + sim.model.nv;
    this.steps = new Array(sim.count).fill(0);
    this.geoms = task.name === "balance_simple" ? balanceGeoms(sim) : null;
  }

  static async create(task: string, count = 1, simDir?: string): Promise<H1TaskEnv> {
    const spec = taskByName(task);
    return new H1TaskEnv(await H1Sim.create(spec.scene, count, simDir), spec);
  }

  get count(): number {
    return this.sim.count;
  }

  /** HumanoidBench's reset of world i, with its noise drawn from `seed`. */
  reset(i: number, seed: number): void {
    const rng = new SeededNormal(seed);
    this.sim.resetToHome(i, () => (rng.uniform() * 2 - 1) * RESET_NOISE);
    this.steps[i] = 0;
  }

  /** a in [-1, 1]^19 -> position targets over the joint ranges (clamped, as MuJoCo clamps HumanoidBench's ctrl). */
  actionToTargets(action: ArrayLike<number>, out: Float64Array = this.targets): Float64Array {
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      const { lower, upper } = H1_JOINTS[j];
      const t = ((action[j] + 1) / 2) * (upper - lower) + lower;
      out[j] = t < lower ? lower : t > upper ? upper : t;
    }
    return out;
  }

  /** One 50 Hz step of world i with a HumanoidBench action. */
  stepAction(i: number, action: ArrayLike<number>, terms?: RewardTerms): StepResult {
    return this.stepCommand(i, positionCommand(this.actionToTargets(action), this.command), terms);
  }

  /** One 50 Hz step of world i with a full motor command. */
  stepCommand(i: number, command: MotorCommand, terms: RewardTerms = emptyTerms()): StepResult {
    this.sim.setCommand(i, command);
    this.sim.step(i);
    this.steps[i]++;
    reward(this.task, this.sim, i, terms);
    return {
      reward: terms.reward,
      terminated: terminated(this.task, this.sim, i, this.geoms),
      truncated: this.steps[i] >= this.task.maxSteps,
      terms,
    };
  }

  /** HumanoidBench's observation of world i: qpos then qvel of the whole model. */
  observe(i: number, out: Float32Array | Float64Array, offset = 0): void {
    const d = this.sim.datas[i];
    out.set(d.qpos as Float64Array, offset);
    out.set(d.qvel as Float64Array, offset + this.sim.model.nq);
  }

  stepsTaken(i: number): number {
    return this.steps[i];
  }

  dispose(): void {
    this.sim.dispose();
  }
}
