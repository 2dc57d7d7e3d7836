// The safety supervisor on its own: the transition table, each mode's command, the watchdogs, and the
// filter's guarantee over 100,000 random commands (NaN, Inf and huge values included).
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../src/config/config.ts";
import { SeededNormal } from "../src/policy/noise.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { commandTorque, commandViolations, filterCommand } from "../src/safety/filter.ts";
import { jointLimits } from "../src/safety/limits.ts";
import { SafetySupervisor, TRANSITIONS, type Mode, type TickInput } from "../src/safety/supervisor.ts";
import { motorCommand, positionCommand, robotState, type RobotState } from "../src/sim/h1-sim.ts";

const config = loadConfig();
const limits = jointLimits(config.safety);
const dt = 0.02;
const HOME = H1_JOINTS.map((j) => j.home);

function standingState(): RobotState {
  const s = robotState();
  s.q.set(HOME);
  s.imuQuat.set([1, 0, 0, 0]);
  return s;
}

class Harness {
  readonly sup = new SafetySupervisor({ safety: config.safety, limits, dt });
  tick = 0;
  state = standingState();
  step(over: Partial<TickInput> = {}) {
    this.state.tick += 10;
    return this.sup.step({ tick: this.tick++, state: this.state, stateAgeMs: 1, stateAdvanced: true, policy: null, nonFinite: false, overrun: false, ...over });
  }
  ctx(policyLoaded = true) {
    return { state: this.state, fresh: true, policyLoaded };
  }
  /** passive -> standup -> hold -> policy */
  toPolicy(): void {
    assert.equal(this.sup.request("standup", "test", this.ctx()), null);
    for (let i = 0; i < 200 && this.sup.mode === "standup"; i++) this.step();
    assert.equal(this.sup.mode, "hold");
    assert.equal(this.sup.request("policy", "test", this.ctx()), null);
  }
}

test("the transition table is what requests obey; e-stop is always allowed and latched", () => {
  const modes: Mode[] = ["passive", "damping", "standup", "hold", "policy", "estop"];
  for (const from of modes) {
    for (const to of modes) {
      const h = new Harness();
      // Reach `from` through allowed paths.
      const path: Record<Mode, Mode[]> = {
        passive: [],
        damping: ["damping"],
        standup: ["standup"],
        hold: ["standup", "hold"],
        policy: ["standup", "hold", "policy"],
        estop: ["estop"],
      };
      for (const m of path[from]) assert.equal(h.sup.request(m, "setup", h.ctx()), null, `${m} on the way to ${from}`);
      assert.equal(h.sup.mode, from);
      const answer = h.sup.request(to, "test", h.ctx());
      const allowed = from === to || to === "estop" || TRANSITIONS[from].includes(to);
      assert.equal(answer === null, allowed, `${from} -> ${to}: ${answer}`);
      assert.equal(h.sup.mode, allowed ? to : from);
    }
  }
  const h = new Harness();
  h.sup.estop("button");
  assert.match(h.sup.request("passive", "try", h.ctx())!, /e-stop is latched/);
  assert.equal(h.sup.reset("operator"), null);
  assert.equal(h.sup.mode, "passive");
  assert.equal(h.sup.reset("again"), "not in e-stop");
});

test("policy only from hold, with a loaded policy and a fresh state", () => {
  const h = new Harness();
  assert.match(h.sup.request("policy", "t", h.ctx())!, /not reachable from passive/);
  h.sup.request("standup", "t", h.ctx());
  for (let i = 0; i < 200 && h.sup.mode === "standup"; i++) h.step();
  assert.match(h.sup.request("policy", "t", h.ctx(false))!, /no policy is loaded/);
  assert.match(h.sup.request("policy", "t", { state: h.state, fresh: false, policyLoaded: true })!, /needs a fresh robot state/);
  assert.equal(h.sup.request("policy", "t", h.ctx()), null);
});

test("each mode's command: passive zero torque, damping kd only, stand-up interpolates, hold keeps the pose", () => {
  const h = new Harness();
  let cmd = h.step();
  assert.ok(cmd.kp.every((k) => k === 0) && cmd.kd.every((k) => k === 0) && cmd.tau.every((t) => t === 0), "passive");
  h.sup.request("damping", "t", h.ctx());
  cmd = h.step();
  assert.ok(cmd.kp.every((k) => k === 0) && cmd.kd.every((k, j) => k === limits.dampingKd[j] && k > 0), "damping");
  // Stand up from a crouch: the target moves from the measured pose to the default pose over standup_s.
  h.state.q.set(HOME.map((v, j) => (H1_JOINTS[j].name.endsWith("knee") ? 1.6 : v)));
  h.step(); // damping follows the measured pose
  h.sup.request("standup", "t", h.ctx());
  const knee = H1_JOINTS.findIndex((j) => j.name === "left_knee");
  const targets: number[] = [];
  for (let i = 0; i < 200 && h.sup.mode === "standup"; i++) targets.push(h.step().q[knee]);
  assert.equal(targets.length, Math.round(config.safety.standup_s / dt), "stand-up lasts standup_s");
  assert.ok(Math.abs(targets[0] - (1.6 - (0.8 / targets.length))) < 1e-9, `first target ${targets[0]}`);
  assert.ok(targets.every((t, i) => i === 0 || t < targets[i - 1]), "monotone towards the default pose");
  assert.equal(h.sup.mode, "hold");
  cmd = h.step();
  assert.ok(Math.abs(cmd.q[knee] - 0.8) < 1e-12 && cmd.kp[knee] === 300, "hold");
});

test("soft start blends the hold command into the policy's over soft_start_s", () => {
  const h = new Harness();
  h.toPolicy();
  const j = H1_JOINTS.findIndex((x) => x.name === "left_shoulder_pitch");
  const policy = positionCommand(HOME.map((v, k) => (k === j ? 0.5 : v)));
  policy.kp.fill(50);
  const q: number[] = [];
  const kp: number[] = [];
  for (let i = 0; i < 60; i++) {
    const c = h.step({ policy });
    q.push(c.q[j]);
    kp.push(c.kp[j]);
  }
  const n = config.safety.soft_start_s / dt;
  assert.ok(Math.abs(q[0] - 0.5 / n) < 1e-9 && Math.abs(q[n - 1] - 0.5) < 1e-9 && Math.abs(q[n + 5] - 0.5) < 1e-9, `${q.slice(0, 3)}`);
  assert.ok(Math.abs(kp[0] - (100 * (1 - 1 / n) + 50 / n)) < 1e-9 && kp[n] === 50);
});

test("watchdogs: each fault ends in damping within one tick, with its reason", () => {
  const cases: [string, (h: Harness) => Partial<TickInput>, RegExp][] = [
    ["stale state", () => ({ stateAgeMs: 500 }), /robot state is 500\.0 ms old/],
    ["no state", () => ({ state: null }), /no robot state/],
    ["tilt", (h) => {
      const a = 1.0; // rad about x
      h.state.imuQuat.set([Math.cos(a / 2), Math.sin(a / 2), 0, 0]);
      return {};
    }, /torso tilted 1\.00 rad/],
    ["invalid IMU", (h) => {
      h.state.imuQuat.set([0, 0, 0, 0]);
      return {};
    }, /IMU quaternion invalid/],
  ];
  for (const [name, fault, reason] of cases) {
    for (const start of ["standup", "hold", "policy"] as const) {
      const h = new Harness();
      if (start === "standup") h.sup.request("standup", "t", h.ctx());
      else if (start === "hold") {
        h.sup.request("standup", "t", h.ctx());
        for (let i = 0; i < 200 && h.sup.mode === "standup"; i++) h.step();
      } else h.toPolicy();
      const before = h.sup.events.length;
      const cmd = h.step(fault(h));
      assert.equal(h.sup.mode, "damping", `${name} in ${start}`);
      assert.match(h.sup.reason, reason);
      assert.equal(h.sup.events.length, before + 1);
      assert.equal(h.sup.events.at(-1)!.source, "watchdog");
      assert.ok(cmd.kp.every((k) => k === 0), `${name}: the damping command goes out on that same tick`);
    }
  }
});

test("a frozen tick counter, repeated NaN and repeated overruns trip after their counts", () => {
  const w = config.safety.watchdog;
  const frozen = new Harness();
  frozen.toPolicy();
  for (let i = 0; i < w.max_frozen_ticks - 1; i++) frozen.step({ stateAdvanced: false });
  assert.equal(frozen.sup.mode, "policy");
  frozen.step({ stateAdvanced: false });
  assert.equal(frozen.sup.mode, "damping");
  assert.match(frozen.sup.reason, /tick counter frozen/);

  // NaN: the tick is rejected and the last safe command is sent again, until the count trips.
  const nan = new Harness();
  nan.toPolicy();
  const policy = positionCommand(HOME);
  const good = Float64Array.from(nan.step({ policy }).q);
  for (let i = 0; i < w.max_nonfinite_ticks - 1; i++) {
    const c = nan.step({ nonFinite: true, policy: null });
    assert.equal(nan.sup.mode, "policy");
    assert.deepEqual(Array.from(c.q), Array.from(good), "the last safe command again");
  }
  nan.step({ nonFinite: true, policy: null });
  assert.equal(nan.sup.mode, "damping");

  const slow = new Harness();
  slow.toPolicy();
  for (let i = 0; i < w.max_overrun_ticks; i++) slow.step({ overrun: true, policy });
  assert.equal(slow.sup.mode, "policy", "the last action may be reused max_overrun_ticks times");
  slow.step({ overrun: true, policy });
  assert.equal(slow.sup.mode, "damping");
  assert.match(slow.sup.reason, /over its .* budget/);
});

test("e-stop from any mode goes out as damping on the next tick", () => {
  for (const reach of [[], ["damping"], ["standup"], ["standup", "hold"], ["standup", "hold", "policy"]] as Mode[][]) {
    const h = new Harness();
    for (const m of reach) {
      if (m === "hold") for (let i = 0; i < 200 && h.sup.mode === "standup"; i++) h.step();
      else h.sup.request(m, "t", h.ctx());
    }
    h.sup.estop("operator");
    const cmd = h.step({ policy: positionCommand(HOME) });
    assert.equal(h.sup.mode, "estop");
    assert.ok(cmd.kp.every((k) => k === 0) && cmd.kd.every((k) => k > 0));
  }
});

test("property: 100,000 random commands and states, every filtered command is within the limits", () => {
  const rng = new SeededNormal(2024);
  const special = [NaN, Infinity, -Infinity, 1e300, -1e300, 0];
  const wild = (scale: number) => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : scale * rng.normal());
  const cmd = motorCommand();
  const state = robotState();
  const previous = new Float64Array(H1_NUM_JOINTS);
  let hasPrevious = false;
  let torqueBounded = 0;
  for (let trial = 0; trial < 100_000; trial++) {
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      cmd.q[j] = wild(5);
      cmd.dq[j] = wild(50);
      cmd.tau[j] = wild(500);
      cmd.kp[j] = wild(500);
      cmd.kd[j] = wild(50);
      state.q[j] = rng.uniform() < 0.01 ? NaN : HOME[j] + rng.normal();
      state.dq[j] = 5 * rng.normal();
    }
    const stats = filterCommand(cmd, state, hasPrevious ? previous : null, limits, dt);
    torqueBounded += stats.torqueBounded;
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      const where = `trial ${trial} joint ${H1_JOINTS[j].name}`;
      for (const f of [cmd.q[j], cmd.dq[j], cmd.tau[j], cmd.kp[j], cmd.kd[j]]) assert.ok(Number.isFinite(f), `${where}: non-finite output`);
      assert.ok(cmd.kp[j] >= 0 && cmd.kp[j] <= limits.kpMax[j], `${where}: kp ${cmd.kp[j]}`);
      assert.ok(cmd.kd[j] >= 0 && cmd.kd[j] <= limits.kdMax[j], `${where}: kd ${cmd.kd[j]}`);
      assert.ok(Math.abs(cmd.tau[j]) <= limits.effort[j], `${where}: tau_ff ${cmd.tau[j]}`);
      const q = state.q[j];
      if (Number.isFinite(q)) {
        const torque = commandTorque(cmd, state, j);
        assert.ok(Math.abs(torque) <= limits.effort[j] * (1 + 1e-9) + 1e-9, `${where}: torque ${torque}`);
        // The target is inside the soft range, or between it and the measured position (torque bound).
        const lo = Math.min(limits.lower[j], q);
        const hi = Math.max(limits.upper[j], q);
        assert.ok(cmd.q[j] >= lo - 1e-9 && cmd.q[j] <= hi + 1e-9, `${where}: target ${cmd.q[j]}`);
      } else {
        assert.ok(cmd.kp[j] === 0 && cmd.kd[j] === 0, `${where}: no feedback gains without a measured state`);
        assert.ok(cmd.q[j] >= limits.lower[j] && cmd.q[j] <= limits.upper[j], `${where}: target ${cmd.q[j]}`);
      }
      // From a previous target inside the range, the target moves at most velocity x dt, except where the
      // torque bound moved it further towards the measured position.
      if (hasPrevious && previous[j] >= limits.lower[j] && previous[j] <= limits.upper[j]) {
        const step = limits.velocity[j] * dt;
        const towards = Number.isFinite(q) ? q : previous[j];
        const lo = Math.min(previous[j] - step, towards);
        const hi = Math.max(previous[j] + step, towards);
        assert.ok(cmd.q[j] >= lo - 1e-9 && cmd.q[j] <= hi + 1e-9, `${where}: target rate`);
      }
    }
    previous.set(cmd.q);
    hasPrevious = true;
  }
  assert.ok(torqueBounded > 1000, `the torque bound was exercised (${torqueBounded} times)`);
});

test("the command audit flags what the filter prevents", () => {
  const state = standingState();
  const ok = positionCommand(HOME);
  assert.equal(commandViolations(ok, state, limits), 0);
  const bad = (edit: (c: ReturnType<typeof motorCommand>) => void) => {
    const c = positionCommand(HOME);
    edit(c);
    return commandViolations(c, state, limits);
  };
  assert.equal(bad((c) => (c.q[0] = NaN)), 1);
  assert.equal(bad((c) => (c.kp[2] = 1e4)), 1);
  assert.equal(bad((c) => (c.tau[4] = 100)), 1); // ankle effort is 40
  assert.equal(bad((c) => (c.q[3] = 1.5)), 0); // knee: 300 N·m/rad * 0.7 rad = 210 N·m, under its 300
  assert.equal(bad((c) => (c.q[10] = 2.34)), 1); // torso: outside the soft range and 300 * 2.34 > 200 N·m
});
