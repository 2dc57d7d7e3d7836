// HumanoidBench's H1 tasks: reward, termination and success bar, read from a simulated world exactly as
// HumanoidBench reads them (../shared/reference/humanoidbench.md §4): head height from the `head` site, the
// torso's up-axis z from torso_link's rotation, the centre-of-mass velocity from the pelvis_subtreelinvel
// sensor, the actuator forces; all from the last substep's forward pass.
import type { MjData } from "mujoco-js";
import type { H1Sim } from "./h1-sim.ts";
import { idOf, type SceneName } from "./mujoco.ts";
import { tolerance } from "./tolerance.ts";

export type TaskName = "stand" | "walk" | "run" | "balance_simple";

export interface TaskSpec {
  name: TaskName;
  scene: SceneName;
  /** Forward speed to reach (m/s); 0 = stand still. */
  moveSpeed: number;
  /** Head height above which `standing` is 1. */
  standHeight: number;
  /** The episode terminates when the pelvis is lower than this. */
  minPelvisHeight: number;
  successBar: number;
  maxSteps: number;
}

const STAND_HEIGHT = 1.65;
const BOARD_HEIGHT = 0.37;

export const TASKS: Record<TaskName, TaskSpec> = {
  stand: { name: "stand", scene: "h1_flat", moveSpeed: 0, standHeight: STAND_HEIGHT, minPelvisHeight: 0.2, successBar: 800, maxSteps: 1000 },
  walk: { name: "walk", scene: "h1_flat", moveSpeed: 1, standHeight: STAND_HEIGHT, minPelvisHeight: 0.2, successBar: 700, maxSteps: 1000 },
  run: { name: "run", scene: "h1_flat", moveSpeed: 5, standHeight: STAND_HEIGHT, minPelvisHeight: 0.2, successBar: 700, maxSteps: 1000 },
  balance_simple: {
    name: "balance_simple",
    scene: "h1_balance_simple",
    moveSpeed: 0,
    standHeight: STAND_HEIGHT + BOARD_HEIGHT,
    minPelvisHeight: 0.8,
    successBar: 800,
    maxSteps: 1000,
  },
};

/** `h1-stand` or `stand` -> the task. */
export function taskByName(name: string): TaskSpec {
  const key = name.replace(/^h1-/, "") as TaskName;
  const spec = TASKS[key];
  if (!spec) throw new Error(`unknown task "${name}"; expected one of ${Object.keys(TASKS).map((t) => `h1-${t}`).join(", ")}`);
  return spec;
}

export interface RewardTerms {
  reward: number;
  standing: number;
  upright: number;
  smallControl: number;
  /** dont_move for standing tasks, the (5 move + 1) / 6 term for walk and run. */
  motion: number;
}

export function reward(task: TaskSpec, sim: H1Sim, i: number, out: RewardTerms = emptyTerms()): RewardTerms {
  const d = sim.datas[i];
  const ix = sim.index;
  const head = (d.site_xpos as Float64Array)[3 * ix.site.head + 2];
  const torsoZz = (d.xmat as Float64Array)[9 * ix.body.torso_link + 8];
  const sensors = d.sensordata as Float64Array;
  const vx = sensors[ix.sensorAdr.pelvis_subtreelinvel];
  const vy = sensors[ix.sensorAdr.pelvis_subtreelinvel + 1];
  const force = d.actuator_force as Float64Array;

  out.standing = tolerance(head, { bounds: [task.standHeight, Infinity], margin: STAND_HEIGHT / 4 });
  out.upright = tolerance(torsoZz, { bounds: [0.9, Infinity], sigmoid: "linear", margin: 1.9, valueAtMargin: 0 });
  let control = 0;
  for (let a = 0; a < force.length; a++) control += tolerance(force[a], { margin: 10, valueAtMargin: 0, sigmoid: "quadratic" });
  out.smallControl = (4 + control / force.length) / 5;
  if (task.moveSpeed === 0) {
    out.motion = (tolerance(vx, { margin: 2 }) + tolerance(vy, { margin: 2 })) / 2;
  } else {
    const move = tolerance(vx, { bounds: [task.moveSpeed, Infinity], margin: task.moveSpeed, valueAtMargin: 0, sigmoid: "linear" });
    out.motion = (5 * move + 1) / 6;
  }
  out.reward = out.smallControl * out.standing * out.upright * out.motion;
  return out;
}

export function emptyTerms(): RewardTerms {
  return { reward: 0, standing: 0, upright: 0, smallControl: 0, motion: 0 };
}

/** Geoms balance_simple's termination looks at. */
export interface BalanceGeoms {
  floor: number;
  sphere: number;
  board: number;
}

export function balanceGeoms(sim: H1Sim): BalanceGeoms {
  return {
    floor: idOf(sim.mj, sim.model, "geom", "floor"),
    sphere: idOf(sim.mj, sim.model, "geom", "pivot_sphere_collision"),
    board: idOf(sim.mj, sim.model, "geom", "stand_board_collision"),
  };
}

export function terminated(task: TaskSpec, sim: H1Sim, i: number, geoms: BalanceGeoms | null): boolean {
  const d = sim.datas[i];
  if ((d.qpos as Float64Array)[2] < task.minPelvisHeight) return true;
  return task.name === "balance_simple" && geoms !== null && badBalanceContact(d, geoms);
}

/** The sphere touching anything but the floor or the board, or the floor touching anything but the sphere
 * (a foot or the board on the floor ends the episode). */
function badBalanceContact(d: MjData, g: BalanceGeoms): boolean {
  const contacts = d.contact;
  for (let k = 0; k < d.ncon; k++) {
    const c = contacts.get(k);
    if (!c) continue;
    const a = c.geom1;
    const b = c.geom2;
    c.delete();
    if (a === g.sphere || b === g.sphere) {
      const other = a === g.sphere ? b : a;
      if (other !== g.floor && other !== g.board) return true;
    } else if (a === g.floor || b === g.floor) {
      return true;
    }
  }
  return false;
}
