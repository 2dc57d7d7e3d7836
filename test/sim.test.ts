// The simulated H1 in the runtime (mujoco-js): the model contract, the motor law, worlds, state, tasks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ObservationBuilder, projectedGravity } from "../src/control/observation.ts";
import { H1_JOINTS, H1_JOINT_NAMES, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { H1Sim, motorCommand, positionCommand, robotState } from "../src/sim/h1-sim.ts";
import { idOf } from "../src/sim/mujoco.ts";
import { H1TaskEnv, RESET_NOISE } from "../src/sim/task-env.ts";
import { TASKS } from "../src/sim/tasks.ts";

const HOME = H1_JOINTS.map((j) => j.home);
/** The HumanoidBench action that targets the home pose. */
const HOME_ACTION = H1_JOINTS.map((j, k) => (2 * (HOME[k] - j.lower)) / (j.upper - j.lower) - 1);

test("both scenes load with the contract's names and sizes", async () => {
  for (const [scene, nq, nv] of [["h1_flat", 26, 25], ["h1_balance_simple", 33, 31]] as const) {
    const sim = await H1Sim.create(scene, 1);
    assert.equal(sim.model.nq, nq);
    assert.equal(sim.model.nv, nv);
    assert.equal(sim.model.nu, 19);
    assert.equal(sim.timestep, 0.002);
    // Actuator k drives joint k, in HumanoidBench's order.
    assert.deepEqual(Array.from(sim.index.actuator), H1_JOINT_NAMES.map((_, k) => k));
    assert.deepEqual(Array.from(sim.index.jointQpos), H1_JOINT_NAMES.map((_, k) => 7 + k));
    assert.equal(idOf(sim.mj, sim.model, "geom", "floor"), 0);
    sim.dispose();
  }
});

test("the motor law: force = clip(kp (q* - q) + kd (dq* - dq) + tau_ff, effort) for any command", async () => {
  const sim = await H1Sim.create("h1_flat", 1);
  const d = sim.datas[0];
  const cmd = motorCommand();
  let clamped = 0;
  for (let trial = 0; trial < 20; trial++) {
    const qvel = new Float64Array(sim.model.nv).map((_, k) => (k < 6 ? 0 : Math.sin(trial * 7 + k) * 2));
    sim.setState(0, d.qpos as Float64Array, qvel);
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      cmd.q[j] = HOME[j] + Math.sin(trial + j) * 0.5;
      cmd.dq[j] = Math.cos(trial * 3 + j);
      cmd.tau[j] = Math.sin(trial * 5 + j) * 10;
      cmd.kp[j] = 50 + 150 * Math.abs(Math.sin(trial + 2 * j));
      cmd.kd[j] = 5 * Math.abs(Math.cos(trial + j));
    }
    sim.setCommand(0, cmd);
    sim.step(0, 0); // apply the command without advancing
    sim.mj.mj_forward(sim.model, d);
    const state = sim.readState(0);
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      const raw = cmd.kp[j] * (cmd.q[j] - state.q[j]) + cmd.kd[j] * (cmd.dq[j] - state.dq[j]) + cmd.tau[j];
      const limit = H1_JOINTS[j].effort;
      const want = Math.min(limit, Math.max(-limit, raw));
      if (Math.abs(raw) > limit) clamped++;
      assert.ok(Math.abs(state.tauEst[j] - want) < 1e-9, `${H1_JOINT_NAMES[j]}: ${state.tauEst[j]} vs ${want}`);
    }
  }
  assert.ok(clamped > 0, "some commands hit the effort limit");
  sim.dispose();
});

test("worlds are independent and deterministic", async () => {
  const sim = await H1Sim.create("h1_flat", 3);
  const bent = positionCommand(HOME.map((h, k) => (H1_JOINT_NAMES[k].endsWith("elbow") ? 1.2 : h)));
  sim.setCommand(1, bent);
  for (let s = 0; s < 25; s++) sim.stepAll();
  const q = [0, 1, 2].map((i) => Array.from(sim.datas[i].qpos as Float64Array));
  assert.deepEqual(q[0], q[2], "same command, same trajectory");
  assert.notDeepEqual(q[0], q[1]);
  assert.ok(Math.abs(q[1][7 + H1_JOINT_NAMES.indexOf("left_elbow")] - 1.2) < 0.2, "the bent elbow followed its target");
  sim.dispose();
});

test("reset: keyframe home plus seeded uniform noise of at most 0.01 on every qpos entry", async () => {
  const env = await H1TaskEnv.create("stand", 2);
  env.reset(0, 5);
  env.reset(1, 5);
  const a = Array.from(env.sim.datas[0].qpos as Float64Array);
  assert.deepEqual(a, Array.from(env.sim.datas[1].qpos as Float64Array));
  env.reset(1, 6);
  assert.notDeepEqual(a, Array.from(env.sim.datas[1].qpos as Float64Array));
  const home = [0, 0, 0.98, 1, 0, 0, 0, ...HOME];
  a.forEach((v, k) => assert.ok(Math.abs(v - home[k]) <= RESET_NOISE, `qpos[${k}]`));
  assert.ok(a.some((v, k) => Math.abs(v - home[k]) > 0.005), "noise is there");
  assert.equal(env.stepsTaken(1), 0);
  env.dispose();
});

test("stand: HumanoidBench's observation, reward near 1 at the start, the robot falls holding its home pose", async () => {
  const env = await H1TaskEnv.create("stand", 1);
  env.reset(0, 0);
  assert.equal(env.obsSize, 51);
  const obs = new Float64Array(51);
  env.observe(0, obs);
  assert.equal(obs[2], (env.sim.datas[0].qpos as Float64Array)[2]);
  let ret = 0;
  let steps = 0;
  let first = 0;
  for (; steps < 1000; steps++) {
    const r = env.stepAction(0, HOME_ACTION);
    if (steps === 0) first = r.reward;
    ret += r.reward;
    if (r.terminated) break;
  }
  // HumanoidBench's H1 (humanoidbench.md §5): step-1 reward 0.987, falls backwards at step 79, return ~52.
  assert.ok(first > 0.95 && first <= 1, `first reward ${first}`);
  assert.ok(steps + 1 >= 60 && steps + 1 <= 110, `terminated at step ${steps + 1}`);
  assert.ok(ret > 35 && ret < 90, `return ${ret}`);
  env.dispose();
});

test("walk and run reward forward speed, balance_simple sees its board", async () => {
  for (const task of ["walk", "run"] as const) {
    const env = await H1TaskEnv.create(task, 1);
    env.reset(0, 0);
    const r = env.stepAction(0, HOME_ACTION);
    // Standing still earns move = 0, so the motion term is (5 * 0 + 1) / 6.
    assert.ok(Math.abs(r.terms.motion - 1 / 6) < 0.02, `${task}: motion ${r.terms.motion}`);
    assert.equal(env.task.successBar, TASKS[task].successBar);
    env.dispose();
  }
  const balance = await H1TaskEnv.create("balance_simple", 1);
  balance.reset(0, 0);
  assert.equal(balance.obsSize, 64);
  assert.equal(balance.stepAction(0, HOME_ACTION).terminated, false);
  // The board dropped to the floor: a floor contact without the sphere ends the episode.
  const d = balance.sim.datas[0];
  const qpos = Float64Array.from(d.qpos as Float64Array);
  qpos[26 + 2] = 0.03; // board centre at its half thickness
  qpos[26] = 1.5; // away from the sphere and the robot
  balance.sim.setState(0, qpos, new Float64Array(balance.sim.model.nv));
  assert.equal(balance.stepAction(0, HOME_ACTION).terminated, true);
  balance.dispose();
});

test("the IMU reads gravity and the pelvis-frame terms agree with MuJoCo's own pelvis state", async () => {
  const sim = await H1Sim.create("h1_flat", 1);
  const d = sim.datas[0];
  const state = robotState();
  sim.readState(0, state);
  const g = projectedGravity(state.imuQuat);
  assert.ok(Math.abs(g[2] + 1) < 0.01 && Math.abs(g[0]) < 0.05, `gravity at home ${Array.from(g)}`);
  // Tilt and spin the root, turn the torso joint, give everything a velocity.
  const qpos = Float64Array.from(d.qpos as Float64Array);
  const [w, x, y, z] = [0.9, 0.2, -0.3, 0.25];
  const n = Math.hypot(w, x, y, z);
  qpos.set([w / n, x / n, y / n, z / n], 3);
  const torso = H1_JOINT_NAMES.indexOf("torso");
  qpos[7 + torso] = 0.7;
  const qvel = new Float64Array(sim.model.nv).map((_, k) => Math.sin(k + 1));
  sim.setState(0, qpos, qvel);
  sim.readState(0, state);
  const builder = new ObservationBuilder([
    { name: "projected_gravity_pelvis", size: 3, sim_only: false },
    { name: "angular_velocity_pelvis", size: 3, sim_only: false },
  ]);
  const out = new Float32Array(6);
  builder.build({ state, lastAction: [], velocityCommand: [0, 0, 0], timeS: 0 }, out);
  const pelvisGravity = projectedGravity(qpos.subarray(3, 7));
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(out[k] - pelvisGravity[k]) < 1e-5, `gravity[${k}] ${out[k]} vs ${pelvisGravity[k]}`);
    // The free joint's angular velocity (qvel[3:6]) is in the pelvis frame.
    assert.ok(Math.abs(out[3 + k] - qvel[3 + k]) < 1e-5, `angular velocity[${k}] ${out[3 + k]} vs ${qvel[3 + k]}`);
  }
  sim.dispose();
});
