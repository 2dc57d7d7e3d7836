// Cross-language simulation parity: the runtime (mujoco-js 3.3.8, WebAssembly) replays the trainer's
// vectors (MuJoCo 3.3.7, native, trainer/scripts/make_sim_vectors.py) and its own (scripts/make-sim-vectors.ts).
//
// Tolerances: the two builds agree to ~1e-13 until a contact starts in a different substep or at a
// slightly different depth (different compilers and libm); such an event leaves differences of up to
// ~1e-4 m in positions and ~2e-3 in velocities that then decay (measured over the shipped vectors). The
// bounds below are 10x those, far below what would change a reward (checked to 1e-4) or a termination
// (checked exactly).
import assert from "node:assert/strict";
import { test } from "node:test";
import { maxAbsDiff } from "../src/policy/engine.ts";
import { replayCase, type VectorFile } from "../src/sim/vectors.ts";
import { fixturePath, readJson } from "./helpers/fixtures.ts";

const TOLERANCE = { qpos: 1e-3, qvel: 2e-2, reward: 1e-4, tau_est: 0.1, quat: 1e-3, gyro: 2e-2, acc: 0.2 };
const TIGHT = { qpos: 1e-12, qvel: 1e-10, reward: 1e-12, tau_est: 1e-9, quat: 1e-12, gyro: 1e-10, acc: 1e-9 };

async function check(file: string, tol: typeof TOLERANCE): Promise<void> {
  const vectors = readJson<VectorFile>(fixturePath("sim", file));
  assert.ok(vectors.cases.length >= 4);
  for (const c of vectors.cases) {
    assert.ok(c.steps.length >= 50, `${c.name}: at least 50 control steps`);
    const got = await replayCase({ task: c.task, qpos0: c.qpos0, qvel0: c.qvel0, commands: c.steps.map((s) => s.command) });
    got.forEach((g, t) => {
      const w = c.steps[t];
      const where = `${file} ${c.name} step ${t + 1}`;
      const within = (what: keyof typeof tol, a: number[], b: number[]) => {
        const d = maxAbsDiff(a, b);
        assert.ok(d <= tol[what], `${where}: ${what} differs by ${d}`);
      };
      within("qpos", g.qpos, w.qpos);
      within("qvel", g.qvel, w.qvel);
      within("reward", [g.reward], [w.reward]);
      within("tau_est", g.tau_est, w.tau_est);
      within("quat", g.imu.quat, w.imu.quat);
      within("gyro", g.imu.gyro, w.imu.gyro);
      within("acc", g.imu.acc, w.imu.acc);
      assert.equal(g.terminated, w.terminated, `${where}: terminated`);
    });
  }
}

test("the runtime's simulation reproduces the trainer's (Python, MuJoCo 3.3.7) within the stated tolerances", async () => {
  await check("python-vectors.json", TOLERANCE);
});

test("the runtime reproduces its own vectors exactly (regression)", async () => {
  await check("ts-vectors.json", TIGHT);
});
