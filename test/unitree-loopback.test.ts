// The control node ticking through a link that speaks unitree_go on the wire, in process: every command
// becomes a LowCmd (C layout, CRC), is CDR-encoded as ROS 2 would send it, decoded and checked as the
// robot checks it, then drives the simulated H1; the robot's state comes back as a LowState the same way.
// So the simulated robot only moves on what a real H1 would have accepted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import type { LinkState, RobotLink } from "../src/link/link.ts";
import { messageDefinitions } from "../src/link/ros2/definitions.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { LowCmdBuilder, lowCmdProblem, motorCommandFromLowCmd } from "../src/link/unitree/lowcmd.ts";
import { buildLowState, readLowState } from "../src/link/unitree/lowstate.ts";
import type { LowCmd, LowState } from "../src/link/unitree/messages.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { copyCommand, motorCommand, robotState, type MotorCommand } from "../src/sim/h1-sim.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const LOWCMD = messageDefinitions("unitree_go/LowCmd");
const LOWSTATE = messageDefinitions("unitree_go/LowState");

function throughCdr<T>(defs: ReturnType<typeof messageDefinitions>, message: object): T {
  return new MessageReader(defs).readMessage<T>(new MessageWriter(defs).writeMessage(message));
}

/** The simulated H1 behind the unitree_go wire format. A simulation still (qpos and qvel pass through for
 * simulation-only observation terms), so kind "sim". */
class UnitreeLoopbackLink implements RobotLink {
  readonly kind = "sim" as const;
  readonly real = false;
  readonly problems: string[] = [];
  /** What the node sent and what the robot decoded from the wire. */
  readonly sent: { command: MotorCommand; received: MotorCommand; lowcmd: LowCmd }[] = [];
  private readonly builder = new LowCmdBuilder();
  private readonly inner: LinkState = { robot: robotState(), receivedAtMs: 0 };
  private robotTick = 0;

  constructor(readonly sim: SimLink) {}

  readState(out: LinkState): boolean {
    this.sim.readState(this.inner);
    const wire = throughCdr<LowState>(LOWSTATE, buildLowState(this.inner.robot, (this.robotTick += 10)));
    readLowState(wire, out.robot);
    out.receivedAtMs = this.inner.receivedAtMs;
    out.qpos = this.inner.qpos;
    out.qvel = this.inner.qvel;
    return true;
  }

  send(command: MotorCommand): void {
    const lowcmd = throughCdr<LowCmd>(LOWCMD, this.builder.build(command));
    const problem = lowCmdProblem(lowcmd); // on what arrived: typed arrays, as from rclnodejs
    if (problem) {
      this.problems.push(problem);
      return; // the robot drops it
    }
    const received = motorCommandFromLowCmd(lowcmd, motorCommand());
    const copy = motorCommand();
    copyCommand(command, copy);
    this.sent.push({ command: copy, received, lowcmd });
    this.sim.send(received);
  }

  async close(): Promise<void> {
    await this.sim.close();
  }
}

function assertDeliveredExactly(link: UnitreeLoopbackLink): void {
  assert.deepEqual(link.problems, [], "the robot accepted every command");
  assert.ok(link.sent.length > 0);
  for (const { command, received, lowcmd } of link.sent) {
    for (const k of ["q", "dq", "tau", "kp", "kd"] as const) assert.deepEqual(received[k], Float64Array.from(command[k], Math.fround), k);
    const unused = lowcmd.motor_cmd[9];
    assert.deepEqual([unused.mode, unused.q, unused.dq, unused.tau, unused.kp, unused.kd], [0, 0, 0, 0, 0, 0]);
  }
}

let engine: PolicyEngine;
before(async () => {
  engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
});
after(async () => engine.close());

test("a policy drives the simulated H1 through LowCmd: every command CRC-valid and delivered to the float32", async () => {
  const config = loadConfig({ overrides: ["safety.soft_start_s=0", "safety.watchdog.max_tilt_rad=1.5"], env: {} });
  const link = new UnitreeLoopbackLink(await SimLink.create("h1-stand", 0));
  const node = new ControlNode({ config, link, logger: silentLogger, engine });
  node.beginSimulatedEpisode();
  for (let i = 0; i < 40; i++) {
    const rec = await node.tick();
    link.sim.advance();
    assert.ok(rec.mode === "policy" || rec.mode === "damping", rec.mode);
  }
  assert.ok(node.telemetry.latest()!.policyRan || node.supervisor.mode === "damping");
  assertDeliveredExactly(link);
  await link.close();
});

test("the operator's sequence through LowCmd: passive, stand-up, hold, damping, e-stop", async () => {
  const config = loadConfig({ overrides: ["safety.standup_s=0.2", "safety.watchdog.max_tilt_rad=1.5"], env: {} });
  const link = new UnitreeLoopbackLink(await SimLink.create("h1-stand", 0));
  const node = new ControlNode({ config, link, logger: silentLogger, engine: null });
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await node.tick();
      link.sim.advance();
    }
  };
  await run(3);
  assert.equal(node.supervisor.mode, "passive");
  assert.equal(node.request("standup", "test"), null);
  await run(15);
  assert.equal(node.supervisor.mode, "hold");
  assert.equal(node.request("damping", "test"), null);
  await run(3);
  node.supervisor.estop("test");
  await run(3);
  assert.equal(node.supervisor.mode, "estop");
  const last = link.sent.at(-1)!.received;
  assert.ok(last.kp.every((kp) => kp === 0) && last.kd.some((kd) => kd > 0), "e-stop damps");
  assert.ok(link.sent.some((s) => s.received.kp.some((kp) => kp > 0)), "stand-up and hold were stiff");
  assertDeliveredExactly(link);
  await link.close();
});
