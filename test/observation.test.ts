import assert from "node:assert/strict";
import { test } from "node:test";
import { ObservationBuilder, projectedGravity } from "../src/control/observation.ts";
import type { PolicyManifest } from "../src/policy/manifest.ts";
import { H1_JOINTS, H1_JOINT_NAMES } from "../src/robot/h1.ts";
import { robotState } from "../src/sim/h1-sim.ts";
import { ActionMapper } from "../src/control/action.ts";

const near = (got: ArrayLike<number>, want: number[]) =>
  assert.ok(want.every((w, k) => Math.abs(got[k] - w) < 1e-12), `${Array.from(got)} vs ${want}`);

test("projected gravity is R^T (0, 0, -1) for the body-to-world rotation R", () => {
  near(projectedGravity([1, 0, 0, 0]), [0, 0, -1]);
  // Rolled 90 degrees about x: the body's y axis points up, so gravity is along body -y.
  near(projectedGravity([Math.SQRT1_2, Math.SQRT1_2, 0, 0]), [0, -1, 0]);
  // Pitched 30 degrees about y (nose down): gravity gains +x in the body frame.
  const h = Math.PI / 12;
  near(projectedGravity([Math.cos(h), 0, Math.sin(h), 0]), [Math.sin(Math.PI / 6), 0, -Math.cos(Math.PI / 6)]);
});

test("the builder lays terms out in manifest order and checks them up front", () => {
  const builder = new ObservationBuilder([
    { name: "joint_positions", size: 19, sim_only: false },
    { name: "velocity_command", size: 3, sim_only: false },
    { name: "gait_phase", size: 2, sim_only: false, params: { period_s: 1 } },
    { name: "last_action", size: 2, sim_only: false },
  ]);
  assert.equal(builder.size, 26);
  assert.deepEqual(builder.simOnlyTerms, []);
  const state = robotState();
  state.q.set(H1_JOINTS.map((j) => j.home + 0.1));
  const out = new Float32Array(26);
  builder.build({ state, lastAction: [0.5, -0.5], velocityCommand: [1, 0, 0.2], timeS: 0.25 }, out);
  assert.ok(out.slice(0, 19).every((v) => Math.abs(v - 0.1) < 1e-6), "positions relative to home");
  assert.deepEqual(Array.from(out.slice(19, 22)), [1, 0, Math.fround(0.2)]);
  assert.ok(Math.abs(out[22] - 1) < 1e-6 && Math.abs(out[23]) < 1e-6, "a quarter period: sin 1, cos 0");
  assert.deepEqual(Array.from(out.slice(24)), [0.5, -0.5]);

  const clock = new ObservationBuilder([{ name: "time_since_start", size: 1, sim_only: false, params: { horizon_s: 2 } }]);
  const t = new Float32Array(1);
  const at = (timeS: number) => (clock.build({ state, lastAction: [], velocityCommand: [0, 0, 0], timeS }, t), t[0]);
  assert.deepEqual([at(0), at(0.5), at(2), at(7)], [0, 0.25, 1, 1], "t / horizon, saturating at 1");
  assert.throws(() => new ObservationBuilder([{ name: "time_since_start", size: 1, sim_only: false, params: { horizon_s: 0 } }]), /invalid horizon_s 0/);
  assert.throws(() => new ObservationBuilder([{ name: "lidar", size: 3, sim_only: false }]), /unknown observation term "lidar"/);
  assert.throws(() => new ObservationBuilder([{ name: "gait_phase", size: 2, sim_only: false, params: { period: 1 } }]), /has no parameter "period"/);
  assert.throws(() => new ObservationBuilder([{ name: "gait_phase", size: 2, sim_only: false, params: { period_s: -1 } }]), /invalid period_s -1/);
  const shifted = new ObservationBuilder([{ name: "joint_positions", size: 19, sim_only: false, params: { offset: new Array(19).fill(0.1) } }]);
  const pos = new Float32Array(19);
  shifted.build({ state, lastAction: [], velocityCommand: [0, 0, 0], timeS: 0 }, pos);
  assert.ok(pos.every((v, j) => Math.abs(v - (H1_JOINTS[j].home + 0.1 - 0.1)) < 1e-6), "q minus the given offset");
  assert.throws(() => new ObservationBuilder([{ name: "projected_gravity", size: 4, sim_only: false }]), /has 3 values, the policy declares 4/);
  assert.throws(() => new ObservationBuilder([{ name: "qpos", size: 26, sim_only: false }]), /needs simulation-only state/);
  const simOnly = new ObservationBuilder([{ name: "qpos", size: 26, sim_only: true }]);
  assert.deepEqual(simOnly.simOnlyTerms, ["qpos"]);
  assert.throws(() => simOnly.build({ state, lastAction: [], velocityCommand: [0, 0, 0], timeS: 0 }, new Float32Array(26)), /needs the simulator's state/);
});

test("actions map to H1 motor commands by joint name, never by position", () => {
  const joints = ["right_knee", "left_knee"]; // a policy driving two joints, in its own order
  const manifest = {
    name: "two-knees",
    action: { size: 2, joints, target: "position", offset: [0.8, 0.8], scale: [0.5, 0.5] },
    pd_gains: { kp: [123, 321], kd: [4, 5] },
  } as unknown as PolicyManifest;
  const cmd = new ActionMapper(manifest).toCommand([1, -1]);
  const r = H1_JOINT_NAMES.indexOf("right_knee");
  const l = H1_JOINT_NAMES.indexOf("left_knee");
  assert.equal(cmd.q[r], 1.3);
  assert.ok(Math.abs(cmd.q[l] - 0.3) < 1e-12);
  assert.equal(cmd.kp[r], 123);
  assert.equal(cmd.kp[l], 321);
  // Joints the policy does not drive hold home with HumanoidBench's gains.
  const hip = H1_JOINT_NAMES.indexOf("left_hip_pitch");
  assert.equal(cmd.q[hip], -0.4);
  assert.equal(cmd.kp[hip], 200);
  // Targets stay inside the joint's range.
  assert.equal(new ActionMapper(manifest).toCommand([10, 0]).q[r], H1_JOINTS[r].upper);
  assert.throws(() => new ActionMapper({ ...manifest, action: { ...manifest.action, joints: ["tail", "left_knee"] } }), /unknown H1 joint "tail"/);
  assert.throws(() => new ActionMapper({ ...manifest, action: { ...manifest.action, target: "torque" } }), /takes position targets/);
});
