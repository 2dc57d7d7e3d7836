// Writes test/fixtures/sim/ts-vectors.json: simulation test vectors computed by the runtime (mujoco-js), which
// the trainer's tests replay in Python (trainer/tests/test_sim_vectors.py). Run: npm run fixtures:sim
import { mkdirSync, writeFileSync } from "node:fs";
import { SeededNormal } from "../src/policy/noise.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { mujoco } from "../src/sim/mujoco.ts";
import { positionCommand } from "../src/sim/h1-sim.ts";
import { H1TaskEnv } from "../src/sim/task-env.ts";
import { TASKS, type TaskName } from "../src/sim/tasks.ts";
import { replayCase, type VectorCase, type VectorCommand, type VectorFile } from "../src/sim/vectors.ts";

const STEPS = 80;
const OUT = "test/fixtures/sim/ts-vectors.json";

const plain = (c: { q: Float64Array; dq: Float64Array; tau: Float64Array; kp: Float64Array; kd: Float64Array }): VectorCommand => ({
  q: Array.from(c.q),
  dq: Array.from(c.dq),
  tau: Array.from(c.tau),
  kp: Array.from(c.kp),
  kd: Array.from(c.kd),
});

/** HumanoidBench actions drifting smoothly from the home pose: a_t = clip(a_{t-1} + 0.15 z). */
function randomActionCommands(env: H1TaskEnv, rng: SeededNormal): VectorCommand[] {
  const action = H1_JOINTS.map((j) => (2 * (j.home - j.lower)) / (j.upper - j.lower) - 1);
  return Array.from({ length: STEPS }, () => {
    for (let j = 0; j < H1_NUM_JOINTS; j++) action[j] = Math.max(-1, Math.min(1, action[j] + 0.15 * rng.normal()));
    return plain(positionCommand(env.actionToTargets(action)));
  });
}

/** Full motor commands: targets around home, velocity targets, feed-forward torques, varied gains; the
 * larger torques hit the effort limits. */
function motorCommands(rng: SeededNormal): VectorCommand[] {
  return Array.from({ length: STEPS }, (_, t) => ({
    q: H1_JOINTS.map((j) => j.home + 0.3 * Math.sin(0.1 * t + j.kp)),
    dq: H1_JOINTS.map(() => rng.normal()),
    tau: H1_JOINTS.map((j) => 0.6 * j.effort * rng.normal()),
    kp: H1_JOINTS.map(() => 20 + 280 * rng.uniform()),
    kd: H1_JOINTS.map(() => 8 * rng.uniform()),
  }));
}

async function makeCase(name: string, task: TaskName, seed: number, commands: (env: H1TaskEnv, rng: SeededNormal) => VectorCommand[]): Promise<VectorCase> {
  const env = await H1TaskEnv.create(task, 1);
  env.reset(0, seed);
  const d = env.sim.datas[0];
  const qpos0 = Array.from(d.qpos as Float64Array);
  const qvel0 = Array.from(d.qvel as Float64Array);
  const cmds = commands(env, new SeededNormal(seed + 1000));
  env.dispose();
  return { name, scene: TASKS[task].scene, task, qpos0, qvel0, steps: await replayCase({ task, qpos0, qvel0, commands: cmds }) };
}

const mj = await mujoco();
const file: VectorFile = {
  generated_by: "scripts/make-sim-vectors.ts",
  mujoco_version: mj.mj_versionString(),
  cases: [
    await makeCase("stand-random-actions", "stand", 101, randomActionCommands),
    await makeCase("walk-random-actions", "walk", 102, randomActionCommands),
    await makeCase("balance_simple-random-actions", "balance_simple", 103, randomActionCommands),
    await makeCase("stand-motor-commands", "stand", 104, (_, rng) => motorCommands(rng)),
  ],
};
mkdirSync("test/fixtures/sim", { recursive: true });
writeFileSync(OUT, JSON.stringify(file) + "\n");
console.log(`wrote ${file.cases.length} cases of ${STEPS} steps to ${OUT}`);
