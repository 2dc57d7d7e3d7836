// The rclnodejs adapter (src/link/ros2/rclnodejs-link.ts), run here against a fake rclnodejs: an
// in-process bus that checks every published message against its .msg definition and through CDR, and
// delivers LowState the way rclnodejs does (typed arrays). What remains for a machine with ROS 2 is
// rclnodejs itself, DDS and the robot: `npm run check:ros2` (docs/ros2.md). Also: without ROS 2, choosing
// the ROS 2 link fails with what to source.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { MessageReader, MessageWriter } from "@foxglove/rosmsg2-serialization";
import { InProcessControl } from "../src/api/control.ts";
import { loadConfig, type Config } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { messageDefinitions } from "../src/link/ros2/definitions.ts";
import type { DiagnosticArray, JointState, StringMessage } from "../src/link/ros2/messages.ts";
import { messageProblems } from "../src/link/ros2/msg-check.ts";
import { loadRclnodejs, Ros2Link, Ros2Unavailable, SOURCE_ROS2, type Rclnodejs } from "../src/link/ros2/rclnodejs-link.ts";
import { CommandRepeater, dampingCommand } from "../src/link/ros2/repeat.ts";
import { lowCmdProblem, motorCommandFromLowCmd } from "../src/link/unitree/lowcmd.ts";
import { buildLowState } from "../src/link/unitree/lowstate.ts";
import type { LowCmd } from "../src/link/unitree/messages.ts";
import { encodeRemote, REMOTE_KEYS } from "../src/link/unitree/remote.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { jointLimits } from "../src/safety/limits.ts";
import { motorCommand, robotState } from "../src/sim/h1-sim.ts";
import { silentLogger } from "../src/util/log.ts";

/** An in-process stand-in for rclnodejs and the DDS graph. */
class FakeBus {
  readonly published: { topic: string; type: string; message: any }[] = [];
  readonly problems: string[] = [];
  readonly subscriptions = new Map<string, ((m: unknown) => void)[]>();
  readonly services = new Map<string, (request: unknown) => Promise<any>>();
  readonly publisherCount = new Map<string, number>();
  destroyed = 0;
  shutdown = false;

  rcl(): Rclnodejs {
    const bus = this;
    class QoS {
      static HistoryPolicy = { RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1 };
      static ReliabilityPolicy = { RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2 };
      constructor(
        readonly history: number,
        readonly depth: number,
        readonly reliability: number,
      ) {}
    }
    class Node {
      constructor(
        readonly name: string,
        readonly namespace = "",
      ) {}
      createPublisher(type: string, topic: string) {
        bus.publisherCount.set(topic, (bus.publisherCount.get(topic) ?? 0) + 1);
        const defs = messageDefinitions(type.replace("/msg/", "/"));
        return {
          publish(message: object) {
            if (bus.shutdown) throw new Error("context is shut down");
            // What rclnodejs would serialise: it must match the definition and survive CDR unchanged.
            const problems = messageProblems(defs, message, `${topic}`);
            bus.problems.push(...problems);
            const back = new MessageReader(defs).readMessage(new MessageWriter(defs).writeMessage(message));
            if (JSON.stringify(plain(back)) !== JSON.stringify(plain(message))) bus.problems.push(`${topic}: changed by CDR`);
            bus.published.push({ topic, type, message: structuredClone(message) });
          },
        };
      }
      createSubscription(type: string, topic: string, _options: object, callback: (m: never) => void) {
        assert.equal(type, "unitree_go/msg/LowState");
        bus.subscriptions.set(topic, [...(bus.subscriptions.get(topic) ?? []), callback as (m: unknown) => void]);
      }
      createService(type: string, name: string, callback: (request: unknown) => Promise<object>) {
        assert.equal(type, "std_srvs/srv/Trigger");
        bus.services.set(name, callback);
      }
      countPublishers(topic: string) {
        return bus.publisherCount.get(topic) ?? 0;
      }
      getPublishersInfoByTopic() {
        return [{ node_name: "unitree_rl_gym_deploy", node_namespace: "/" }];
      }
      spin() {}
      destroy() {
        bus.destroyed++;
      }
    }
    return {
      init: async () => {},
      Node,
      QoS,
      shutdown: () => void (bus.shutdown = true),
      isShutdown: () => bus.shutdown,
    } as unknown as Rclnodejs;
  }

  /** The robot publishes a LowState: through CDR, so the node sees typed arrays as from rclnodejs. */
  publishLowState(state = homeState(), tick = 0, keys = 0): void {
    const defs = messageDefinitions("unitree_go/LowState");
    const wire = new MessageReader(defs).readMessage(new MessageWriter(defs).writeMessage(buildLowState(state, tick, encodeRemote({ keys }))));
    for (const cb of this.subscriptions.get("/lowstate") ?? []) cb(wire);
  }

  on(topic: string): any[] {
    return this.published.filter((p) => p.topic === topic).map((p) => p.message);
  }
}

function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function homeState() {
  const s = robotState();
  H1_JOINTS.forEach((j, k) => (s.q[k] = j.home));
  s.imuQuat.set([1, 0, 0, 0]);
  s.imuAcc.set([0, 0, 9.81]);
  return s;
}

const keys = (...names: (keyof typeof REMOTE_KEYS)[]) => names.reduce((m, k) => m | (1 << REMOTE_KEYS[k]), 0);

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  return cond();
}

function ros2Config(...overrides: string[]): Config {
  return loadConfig({ env: {}, overrides: ["link.kind=ros2", "link.ros2.lowcmd_check_s=0.05", ...overrides] });
}

async function assemble(config: Config, bus: FakeBus) {
  const link = await Ros2Link.create(config, silentLogger, bus.rcl());
  const node = new ControlNode({ config, link, logger: silentLogger, engine: null });
  const control = new InProcessControl({ config, node, engine: null, loadPolicy: async () => Promise.reject(new Error("no policies here")), logger: silentLogger });
  link.attach({ control, telemetry: node.telemetry });
  return { link, node, control };
}

test("end to end on a fake rclnodejs: LowState in, CRC'd LowCmd out, remote, services, joint_states, diagnostics, final damping", async () => {
  const bus = new FakeBus();
  // Watchdogs are the supervisor's tests' business; here a loaded machine must not trip them.
  const config = ros2Config("link.ros2.diagnostics_hz=50", "safety.watchdog.max_state_age_ms=1000");
  const { link, node } = await assemble(config, bus);
  assert.equal(link.real, true);
  assert.deepEqual([...bus.services.keys()].sort(), ["~/estop", "~/mode/damping", "~/mode/hold", "~/mode/passive", "~/mode/policy", "~/mode/standup", "~/reset"]);
  let robotTick = 0;
  const step = async (pressed = 0) => {
    bus.publishLowState(homeState(), (robotTick += 10), pressed);
    await tick(); // the remote's action goes through NodeControl (a promise)
    await node.tick();
    await tick(); // telemetry listeners
  };
  const lastLowCmd = (): LowCmd => bus.on("/lowcmd").at(-1);

  await step();
  assert.equal(node.supervisor.mode, "passive");
  assert.equal(lowCmdProblem(lastLowCmd()), null);
  assert.ok(lastLowCmd().motor_cmd.every((m) => m.kp === 0 && m.kd === 0), "passive: zero torque");

  await step(keys("start"));
  assert.equal(node.supervisor.mode, "standup", "start -> stand-up, through NodeControl");
  for (let i = 0; i < 10; i++) await step(keys("start")); // held: nothing more
  const standing = motorCommandFromLowCmd(lastLowCmd(), motorCommand());
  assert.ok(standing.kp.some((kp) => kp > 0), "stand-up commands stiffness");
  for (let i = 0; i < 120 && node.supervisor.mode === "standup"; i++) await step();
  assert.equal(node.supervisor.mode, "hold");

  await step(keys("L2"));
  await step(keys("L2", "B"));
  assert.equal(node.supervisor.mode, "estop", "L2+B -> e-stop");
  await step();
  const damping = jointLimits(config.safety).dampingKd;
  const estopCmd = motorCommandFromLowCmd(lastLowCmd(), motorCommand());
  assert.deepEqual(estopCmd.kp, new Float64Array(H1_NUM_JOINTS));
  assert.deepEqual(estopCmd.kd, Float64Array.from(damping, Math.fround));

  const call = (name: string) => bus.services.get(name)!({});
  assert.deepEqual(await call("~/mode/standup"), { success: false, message: "e-stop is latched: reset it first (it goes to passive)" });
  assert.deepEqual(await call("~/reset"), { success: true, message: "e-stop reset: now passive" });
  assert.equal(node.supervisor.mode, "passive");
  assert.equal((await call("~/mode/policy")).success, false, "policy from passive is refused");
  assert.deepEqual(await call("~/mode/damping"), { success: true, message: "damping granted" });
  assert.deepEqual(await call("~/estop"), { success: true, message: "e-stop: now estop" });
  assert.equal(node.supervisor.mode, "estop");

  for (const cmd of bus.on("/lowcmd")) assert.equal(lowCmdProblem(cmd), null, "every LowCmd has a valid CRC, header, modes, slot 9 zero");
  const js: JointState[] = bus.on("/joint_states");
  assert.ok(js.length >= 100, `joint_states every tick (${js.length})`);
  assert.equal(js[0].name[0], "left_hip_yaw_joint");
  assert.deepEqual(js.at(-1)!.position, Array.from(homeState().q, Math.fround), "the measured pose, float32 as the robot reports it");
  const events: StringMessage[] = bus.on("~/safety_events");
  assert.deepEqual(events.map((e) => JSON.parse(e.data).to), ["standup", "hold", "estop", "passive", "damping", "estop"]);
  const latestDiagnostics = (): DiagnosticArray | undefined => bus.on("/diagnostics").at(-1);
  assert.ok(await until(() => latestDiagnostics()?.status[0].message.startsWith("estop") ?? false, 5000), "diagnostics report the e-stop");
  const diag: DiagnosticArray[] = bus.on("/diagnostics");
  assert.equal(diag.at(-1)!.status[3].values.find((v) => v.key === "lowcmd_publishers")!.value, "1");
  assert.deepEqual(bus.on("~/policy"), [], "no policy, no policy telemetry");

  const before = bus.on("/lowcmd").length;
  await link.close();
  await link.close();
  const final = bus.on("/lowcmd");
  assert.equal(final.length, before + 1, "one last command on close");
  const last = motorCommandFromLowCmd(final.at(-1), motorCommand());
  assert.deepEqual(last.kp, new Float64Array(H1_NUM_JOINTS), "the last command is damping");
  assert.deepEqual(last.kd, Float64Array.from(damping, Math.fround));
  assert.equal(bus.destroyed, 1);
  assert.equal(bus.shutdown, true);
  link.send(motorCommand());
  assert.equal(bus.on("/lowcmd").length, final.length, "nothing is sent after close");
  assert.deepEqual(bus.problems, [], "every published message matched its definition and survived CDR");
});

test("another LowCmd publisher: the link refuses to start, and says who", async () => {
  const bus = new FakeBus();
  bus.publisherCount.set("/lowcmd", 1);
  await assert.rejects(Ros2Link.create(ros2Config(), silentLogger, bus.rcl()), /another node publishes \/lowcmd \(1: \/unitree_rl_gym_deploy\).*debug mode/);
  assert.equal(bus.destroyed, 1);
  assert.equal(bus.shutdown, true);
  assert.equal(bus.publisherCount.get("/lowcmd"), 1, "no publisher of ours was created");
});

test("tick 0 is not a state yet; an e-stop pressed before the node is attached still applies", async () => {
  const bus = new FakeBus();
  const config = ros2Config();
  const link = await Ros2Link.create(config, silentLogger, bus.rcl());
  const out = { robot: robotState(), receivedAtMs: 0 };
  bus.publishLowState(homeState(), 0, keys("L2", "B"));
  assert.equal(link.readState(out), false, "tick 0: the robot has not sent a real frame yet");
  bus.publishLowState(homeState(), 7);
  assert.equal(link.readState(out), true);
  assert.equal(out.robot.tick, 7);
  const node = new ControlNode({ config, link, logger: silentLogger, engine: null });
  const control = new InProcessControl({ config, node, engine: null, loadPolicy: async () => Promise.reject(new Error("none")), logger: silentLogger });
  link.attach({ control, telemetry: node.telemetry });
  await tick();
  assert.equal(node.supervisor.mode, "estop");
  await link.close();
});

test("the remote can be switched off; its e-stop fires even on the first LowState", async () => {
  const off = new FakeBus();
  const a = await assemble(ros2Config("remote.enabled=false"), off);
  off.publishLowState(homeState(), 1, keys("L2", "B"));
  await tick();
  await a.node.tick();
  assert.equal(a.node.supervisor.mode, "passive");
  await a.link.close();
  const on = new FakeBus();
  const b = await assemble(ros2Config(), on);
  on.publishLowState(homeState(), 1, keys("L2", "B"));
  await tick();
  assert.equal(b.node.supervisor.mode, "estop");
  await b.link.close();
});

test("repeating: the latest command at the configured rate, damping once the loop stops sending", async () => {
  // Timing is the pure repeater's test's business (below); here: the adapter repeats, and falls back.
  const sendOnce = async (maxAgeMs: number, until_: (sent: ReturnType<typeof motorCommand>[]) => boolean) => {
    const bus = new FakeBus();
    const config = ros2Config("link.ros2.lowcmd_repeat_hz=200", `link.ros2.repeat_max_age_ms=${maxAgeMs}`);
    const link = await Ros2Link.create(config, silentLogger, bus.rcl());
    const cmd = motorCommand();
    cmd.kp.fill(50);
    cmd.kd.fill(2);
    link.send(cmd);
    const sent = () => bus.on("/lowcmd").map((m) => motorCommandFromLowCmd(m, motorCommand()));
    assert.ok(await until(() => until_(sent()), 5000), "repeats arrive");
    await link.close();
    const n = bus.on("/lowcmd").length;
    await sleep(30);
    assert.equal(bus.on("/lowcmd").length, n, "no repeats after close");
    assert.deepEqual(bus.problems, []);
    return { sent: sent(), config };
  };
  const fresh = await sendOnce(1000, (s) => s.length >= 4);
  assert.ok(fresh.sent.slice(1, 4).every((c) => c.kp[0] === 50), "a fresh command is repeated as is");
  const stale = await sendOnce(20, (s) => s.at(-1)!.kp[0] === 0 && s.length >= 2);
  assert.equal(stale.sent.at(-2)!.kp[0] === 0 || stale.sent.at(-2)!.kp[0] === 50, true);
  const last = stale.sent.at(-1)!;
  assert.deepEqual(last.kp, new Float64Array(H1_NUM_JOINTS), "a stale one becomes damping");
  assert.equal(last.kd[0], Math.fround(jointLimits(stale.config.safety).dampingKd[0]));
});

test("the repeater and the damping command, by themselves", () => {
  const kd = Float64Array.from({ length: H1_NUM_JOINTS }, (_, j) => j + 1);
  const r = new CommandRepeater(50, kd);
  assert.equal(r.due(0), null, "nothing before the first command");
  const cmd = motorCommand();
  cmd.q.fill(0.3);
  cmd.kp.fill(100);
  cmd.tau.fill(5);
  r.update(cmd, 1000);
  assert.deepEqual(r.due(1050), { command: cmd, stale: false });
  const stale = r.due(1051)!;
  assert.equal(stale.stale, true);
  assert.deepEqual(stale.command.kp, new Float64Array(H1_NUM_JOINTS));
  assert.deepEqual(stale.command.tau, new Float64Array(H1_NUM_JOINTS));
  assert.deepEqual(stale.command.kd, kd);
  assert.deepEqual(stale.command.q, cmd.q, "damped where it was going");
  assert.equal(dampingCommand([NaN], [1]).q[0], 0, "a non-finite position is not passed on");
});

test("without a sourced ROS 2 the ROS 2 link says what to source", async () => {
  await assert.rejects(loadRclnodejs({}), (err: Error) => {
    assert.ok(err instanceof Ros2Unavailable);
    assert.match(err.message, /source \/opt\/ros\/humble\/setup\.bash/);
    assert.match(err.message, /unitree_ros2's cyclonedds_ws\/install\/setup\.bash/);
    return true;
  });
  const missing = async () => {
    throw new Error("Cannot find package 'rclnodejs' imported from ...");
  };
  await assert.rejects(loadRclnodejs({ ROS_DISTRO: "humble" }, missing), (err: Error) => {
    assert.ok(err instanceof Ros2Unavailable);
    assert.match(err.message, /rclnodejs could not be loaded \(Cannot find package 'rclnodejs'/);
    assert.match(err.message, new RegExp(SOURCE_ROS2.replace(/[./]/g, "\\$&")));
    assert.match(err.message, /npm install/);
    return true;
  });
  const fake = new FakeBus().rcl();
  assert.equal(await loadRclnodejs({ AMENT_PREFIX_PATH: "/opt/ros/humble" }, async () => ({ default: fake })), fake);
  if (!process.env.ROS_DISTRO && !process.env.AMENT_PREFIX_PATH) {
    await assert.rejects(Ros2Link.create(ros2Config(), silentLogger), /source \/opt\/ros\/humble\/setup\.bash/);
  }
});

test("npm start with link.kind ros2 and no ROS 2: a clear error before any policy is loaded", { skip: Boolean(process.env.ROS_DISTRO || process.env.AMENT_PREFIX_PATH) }, () => {
  const env = { ...process.env };
  delete env.ROS_DISTRO;
  delete env.AMENT_PREFIX_PATH;
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/start.ts", "--set", "link.kind=ros2", "--set", "policy.path=/nonexistent/policy"], { env, encoding: "utf8", timeout: 60_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /source \/opt\/ros\/humble\/setup\.bash/);
  assert.doesNotMatch(r.stderr, /nonexistent/, "the link is checked before the policy");
});
