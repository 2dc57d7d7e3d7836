// The control node in simulation, with faults injected between it and the simulated robot (a wrapping
// link) and between it and a real policy engine (a wrapping engine): each fault ends in the right mode
// within one tick, and no command outside the limits ever reaches the robot.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { loadConfig, type Config } from "../src/config/config.ts";
import { ControlNode, PolicyRefused, type PolicySampler } from "../src/control/node.ts";
import type { LinkState, RobotLink } from "../src/link/link.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { PolicyEngine, type PolicySample } from "../src/policy/engine.ts";
import { H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { commandTorque } from "../src/safety/filter.ts";
import { motorCommand, copyCommand, type MotorCommand } from "../src/sim/h1-sim.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

/** Sits between the node and the simulated robot: corrupts what the node reads, records what it sends
 * together with the last state it gave the node (the limits hold against what the node can know). */
class FaultyLink implements RobotLink {
  readonly kind = "sim" as const;
  real = false;
  fault: { ageMs?: number; freezeTick?: number; nanQpos?: boolean; infQvel?: boolean; noState?: boolean } = {};
  readonly sent: { command: MotorCommand; q: Float64Array; dq: Float64Array }[] = [];
  private q = new Float64Array(H1_NUM_JOINTS);
  private dq = new Float64Array(H1_NUM_JOINTS);
  constructor(readonly inner: SimLink) {}
  readState(out: LinkState): boolean {
    if (this.fault.noState) return false;
    this.inner.readState(out);
    if (this.fault.ageMs) out.receivedAtMs -= this.fault.ageMs;
    if (this.fault.freezeTick !== undefined) out.robot.tick = this.fault.freezeTick;
    if (this.fault.nanQpos) out.qpos![9] = NaN;
    if (this.fault.infQvel) out.qvel![3] = Infinity;
    this.q.set(out.robot.q);
    this.dq.set(out.robot.dq);
    return true;
  }
  send(command: MotorCommand): void {
    const copy = motorCommand();
    copyCommand(command, copy);
    this.sent.push({ command: copy, q: Float64Array.from(this.q), dq: Float64Array.from(this.dq) });
    this.inner.send(command);
  }
  async close(): Promise<void> {
    await this.inner.close();
  }
}

/** A real engine whose outputs can be corrupted or delayed. */
class FaultyEngine implements PolicySampler {
  fault: "none" | "nan" | "inf" | "huge" | "slow" | "throw" = "none";
  /** The last call's promise (a slow call outlives its tick). */
  last: Promise<unknown> = Promise.resolve();
  constructor(readonly inner: PolicyEngine) {}
  get manifest() {
    return this.inner.manifest;
  }
  get candidatesPerObservation() {
    return this.inner.candidatesPerObservation;
  }
  setK(K: number) {
    this.inner.setK(K);
  }
  sample(obs: Float32Array, B?: number): Promise<PolicySample> {
    const call = this.faulty(obs, B);
    this.last = call.catch(() => {});
    return call;
  }
  private async faulty(obs: Float32Array, B?: number): Promise<PolicySample> {
    if (this.fault === "throw") throw new Error("injected engine failure");
    const r = await this.inner.sample(obs, B);
    if (this.fault === "nan") r.action[3] = NaN;
    if (this.fault === "inf") r.action[0] = -Infinity;
    if (this.fault === "huge") r.action.fill(1e9);
    if (this.fault === "slow") await new Promise((res) => setTimeout(res, 1000)); // longer than the whole test
    return r;
  }
}

let engine: PolicyEngine;
before(async () => {
  engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
});
after(async () => engine.close());

async function setup(over: string[] = [], enforceBudget = false) {
  const config: Config = loadConfig({ overrides: ["safety.soft_start_s=0", "safety.watchdog.max_tilt_rad=1.5", ...over], env: {} });
  const sim = await SimLink.create("h1-stand", 0);
  const link = new FaultyLink(sim);
  const policy = new FaultyEngine(engine);
  const node = new ControlNode({ config, link, logger: silentLogger, engine: policy, enforceBudget });
  node.beginSimulatedEpisode();
  const step = async () => {
    const rec = await node.tick();
    sim.advance();
    return rec;
  };
  return { config, node, link, policy, step, sim };
}

/** Every command the robot received respected the limits, given the state it was sent in. */
function assertAllWithinLimits(node: ControlNode, link: FaultyLink): void {
  const l = node.limits;
  assert.ok(link.sent.length > 0);
  for (const [k, { command: c, q, dq }] of link.sent.entries()) {
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      for (const v of [c.q[j], c.dq[j], c.tau[j], c.kp[j], c.kd[j]]) assert.ok(Number.isFinite(v), `command ${k}: non-finite`);
      assert.ok(c.kp[j] >= 0 && c.kp[j] <= l.kpMax[j] && c.kd[j] >= 0 && c.kd[j] <= l.kdMax[j], `command ${k}: gains`);
      const torque = commandTorque(c, { q, dq } as never, j);
      assert.ok(Math.abs(torque) <= l.effort[j] * (1 + 1e-9), `command ${k} joint ${j}: torque ${torque}`);
    }
  }
}

test("a healthy tick runs the policy and records per-stage timings", async () => {
  const { node, link, step, sim } = await setup();
  const rec = await step();
  assert.equal(rec.mode, "policy");
  assert.equal(rec.policyRan, true);
  assert.equal(rec.K, 8);
  assert.ok(rec.chosen >= 0 && rec.chosen < 8);
  for (const stage of ["state", "observation", "inference", "selection", "safety", "send", "total"] as const) {
    assert.ok(rec.timings[stage] >= 0, stage);
  }
  assert.ok(rec.timings.inference > 0 && rec.timings.total >= rec.timings.inference);
  assert.equal(node.telemetry.latest()?.seq, 0);
  assertAllWithinLimits(node, link);
  await sim.close();
});

test("faults in the state end in damping within one tick", async () => {
  // [fault, ticks until it must be seen, reason]. A frozen counter is seen after max_frozen_ticks ticks
  // without a change (the first tick after injecting a fixed counter still sees a change). A link that stops
  // delivering is caught by whichever comes first: the same count, or the state's age (wall-clock, so on a
  // loaded machine possibly a tick earlier).
  const faults: [string, (l: FaultyLink) => void, number, RegExp, boolean][] = [
    ["stale state", (l) => (l.fault.ageMs = 1000), 1, /ms old/, true],
    ["no new state", (l) => (l.fault.noState = true), 3, /tick counter frozen|ms old/, false],
    ["frozen tick counter", (l) => (l.fault.freezeTick = 12345), 4, /tick counter frozen/, true],
  ];
  for (const [name, inject, ticks, reason, exact] of faults) {
    const { node, link, step, sim } = await setup();
    await step();
    inject(link);
    for (let i = 0; i < ticks - 1; i++) await step();
    if (exact) assert.equal(node.supervisor.mode, "policy", `${name}: not one tick early`);
    await step();
    assert.equal(node.supervisor.mode, "damping", name);
    assert.match(node.supervisor.reason, reason);
    assertAllWithinLimits(node, link);
    await sim.close();
  }
});

test("NaN or Inf in the observation or the action: the tick is rejected, damping after max_nonfinite_ticks", async () => {
  const injections: [string, (l: FaultyLink, e: FaultyEngine) => void][] = [
    ["NaN observation", (l) => (l.fault.nanQpos = true)],
    ["Inf observation", (l) => (l.fault.infQvel = true)],
    ["NaN action", (_, e) => (e.fault = "nan")],
    ["Inf action", (_, e) => (e.fault = "inf")],
    ["engine failure", (_, e) => (e.fault = "throw")],
  ];
  for (const [name, inject] of injections) {
    const { config, node, link, policy, step, sim } = await setup();
    await step();
    inject(link, policy);
    const n = config.safety.watchdog.max_nonfinite_ticks;
    for (let i = 0; i < n - 1; i++) {
      const rec = await step();
      assert.equal(rec.nonFinite, true, name);
      assert.equal(rec.mode, "policy", `${name}: still policy after ${i + 1} rejected ticks`);
    }
    const rec = await step();
    assert.equal(rec.mode, "damping", name);
    assert.match(node.supervisor.reason, /non-finite/);
    assertAllWithinLimits(node, link);
    await sim.close();
  }
});

test("a policy returning huge values never gets a command outside the limits through", async () => {
  const { node, link, policy, step, sim } = await setup();
  policy.fault = "huge";
  for (let i = 0; i < 30 && node.supervisor.mode === "policy"; i++) await step();
  assertAllWithinLimits(node, link);
  const rateLimited = link.sent.some((s, k) => k > 0 && s.command.q.some((q, j) => q !== link.sent[k - 1].command.q[j]));
  assert.ok(rateLimited);
  await sim.close();
});

test("a slow policy in real time: the last action is reused for max_overrun_ticks, then damping", async () => {
  // A budget no healthy call on a loaded machine exceeds; the slow call takes far longer.
  const { config, node, link, policy, step, sim } = await setup(["safety.watchdog.inference_budget_ms=50"], true);
  await step();
  policy.fault = "slow";
  const m = config.safety.watchdog.max_overrun_ticks;
  const overruns: boolean[] = [];
  for (let i = 0; i < m + 1; i++) overruns.push((await step()).overrun);
  assert.ok(overruns.every(Boolean), `${overruns}`);
  assert.equal(node.supervisor.mode, "damping");
  assert.match(node.supervisor.reason, /over its 50 ms budget/);
  assertAllWithinLimits(node, link);
  await policy.last; // the slow call finishes before the shared engine is used again
  await sim.close();
});

test("a fall trips the tilt watchdog; an e-stop in any mode latches on the next tick", async () => {
  const { node, step, sim } = await setup(["safety.watchdog.max_tilt_rad=0.6"]);
  for (let i = 0; i < 300 && node.supervisor.mode === "policy"; i++) await step();
  assert.equal(node.supervisor.mode, "damping", "an untrained policy falls");
  assert.match(node.supervisor.reason, /torso tilted/);
  for (const mode of ["damping", "passive"] as const) {
    if (mode === "passive") assert.equal(node.request("passive", "test"), null);
    assert.equal(node.request("estop", "test"), null);
    const rec = await step();
    assert.equal(rec.mode, "estop");
    assert.ok(rec.command.kp.every((k) => k === 0) && rec.command.kd.every((k) => k > 0));
    assert.match(node.request("standup", "test")!, /latched/);
    assert.equal(node.supervisor.reset("test"), null);
  }
  await sim.close();
});

test("a policy that needs simulation-only terms is refused on a real-robot link", async () => {
  const config = loadConfig({ env: {} });
  const sim = await SimLink.create("h1-stand", 0);
  const real = new FaultyLink(sim);
  real.real = true;
  assert.throws(() => new ControlNode({ config, link: real, logger: silentLogger, engine }), (err: Error) => {
    assert.ok(err instanceof PolicyRefused);
    assert.match(err.message, /needs simulation-only observation terms \(qpos, qvel\); refused on a real-robot link/);
    return true;
  });
  const wrongRate = loadConfig({ overrides: ["control.rate_hz=100"], env: {} });
  assert.throws(() => new ControlNode({ config: wrongRate, link: new FaultyLink(sim), logger: silentLogger, engine }), /trained at 50 Hz; this loop runs at 100 Hz/);
  await sim.close();
});

test("evaluation through the loop in real time: the simulator on its own clock, the loop on its scheduler", async () => {
  const { evaluateThroughLoop } = await import("../src/control/evaluate.ts");
  const config = loadConfig({ overrides: ["safety.soft_start_s=0"], env: {} });
  const report = await evaluateThroughLoop({ config, engine, task: "h1-stand", episodes: 1, seed: 3, realtime: true, logger: silentLogger });
  assert.equal(report.mode, "realtime");
  assert.equal(report.episodes.length, 1);
  const e = report.episodes[0];
  assert.ok(e.length > 5 && e.length <= 1000);
  // Real time: about one tick per simulated control step (the loop and the simulator share the 50 Hz clock).
  assert.ok(Math.abs(report.tick_latency.n - e.length) <= e.length * 0.25 + 5, `${report.tick_latency.n} ticks for ${e.length} steps`);
});
