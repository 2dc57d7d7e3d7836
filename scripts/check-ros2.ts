// npm run check:ros2 — for a machine WITH ROS 2 (Humble or newer, rclnodejs installed, unitree_ros2's
// unitree_go messages sourced): the ROS 2 path end to end on loopback, no robot needed. This process is a
// fake H1 (publishes LowState at 500 Hz with a remote in it, checks every LowCmd as the robot would: C
// layout, CRC, header, modes, slot 9) and the operator (remote keys, the node's services); the node runs
// as a child process with link.kind ros2 and no policy. Prints one line per check and PASS or FAIL.
//
//   npm run check:ros2 -- [--domain 42] [--keep-env]
//
// It runs on its own DDS domain (default 42) restricted to this machine, never on the robot's network,
// unless --keep-env leaves ROS_DOMAIN_ID / ROS_LOCALHOST_ONLY / CYCLONEDDS_URI as they are.
import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { InProcessControl } from "../src/api/control.ts";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { Scheduler } from "../src/control/scheduler.ts";
import { messageDefinitions } from "../src/link/ros2/definitions.ts";
import { JOINT_STATE_NAMES, ROS2_TYPES, type DiagnosticArray, type JointState, type StringMessage, type TriggerResponse } from "../src/link/ros2/messages.ts";
import { messageProblems } from "../src/link/ros2/msg-check.ts";
import { loadRclnodejs, Ros2Link, Ros2Unavailable } from "../src/link/ros2/rclnodejs-link.ts";
import { lowCmdProblem, motorCommandFromLowCmd } from "../src/link/unitree/lowcmd.ts";
import { buildLowState } from "../src/link/unitree/lowstate.ts";
import type { LowCmd } from "../src/link/unitree/messages.ts";
import { encodeRemote, REMOTE_KEYS, type RemoteKey } from "../src/link/unitree/remote.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { motorCommand, robotState } from "../src/sim/h1-sim.ts";
import { consoleLogger } from "../src/util/log.ts";

const NODE = "h1_runtime_check";
const NODE_OVERRIDES = [
  "link.kind=ros2",
  `link.ros2.node_name=${NODE}`,
  "link.ros2.lowcmd_check_s=1.0",
  "link.ros2.diagnostics_hz=5",
  "safety.standup_s=0.5",
  "safety.watchdog.max_state_age_ms=200", // a loaded machine's DDS loopback, not the robot
];

/** Child mode: the control node with the ROS 2 link, no policy, until SIGINT / SIGTERM. */
async function runNode(extra: string[]): Promise<number> {
  const config = loadConfig({ env: {}, overrides: [...NODE_OVERRIDES, ...extra] });
  let link: Ros2Link;
  try {
    link = await Ros2Link.create(config, consoleLogger);
  } catch (err) {
    console.error(`node refused to start: ${(err as Error).message}`);
    return 2;
  }
  const node = new ControlNode({ config, link, logger: consoleLogger, engine: null, enforceBudget: true });
  const control = new InProcessControl({ config, node, engine: null, loadPolicy: () => Promise.reject(new Error("no policies in the check")), logger: consoleLogger });
  link.attach({ control, telemetry: node.telemetry });
  const scheduler = new Scheduler(1000 / config.control.rate_hz, async (_i, missed) => void (await node.tick(missed)));
  const stop = () => void scheduler.stop();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await scheduler.start();
  await link.close();
  return 0;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function runCheck(domain: string, keepEnv: boolean): Promise<number> {
  if (!keepEnv) {
    // Loopback only, on a domain of its own: the check never talks to a robot.
    process.env.ROS_DOMAIN_ID = domain;
    process.env.ROS_LOCALHOST_ONLY = "1";
    process.env.ROS_AUTOMATIC_DISCOVERY_RANGE = "LOCALHOST";
    process.env.CYCLONEDDS_URI = "<CycloneDDS><Domain><General><Interfaces><NetworkInterface name=\"lo\"/></Interfaces></General></Domain></CycloneDDS>";
  }
  const rcl = await loadRclnodejs();
  await rcl.init();
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = "") => {
    checks.push({ name, ok, detail });
    console.log(`${ok ? "PASS" : "FAIL"}  ${name}${detail ? `: ${detail}` : ""}`);
  };
  const children: ChildProcess[] = [];
  const spawnNode = () => {
    const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--node"], { env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    children.push(child);
    return { child, exited, output: () => output };
  };
  const exitWithin = (p: Promise<number>, ms: number) => Promise.race([p, sleep(ms).then(() => null)]);
  const cleanup = () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL"));
  process.once("exit", cleanup);

  try {
    // 1. Another LowCmd publisher: the node must refuse to start.
    const rogueNode = new rcl.Node("h1_check_rogue_lowcmd", "") as any;
    rogueNode.createPublisher(ROS2_TYPES.lowcmd, "/lowcmd");
    rogueNode.spin();
    await sleep(500);
    const refused = spawnNode();
    const code = await exitWithin(refused.exited, 30_000);
    check("refuses to start while another node publishes /lowcmd", code === 2 && /another node publishes \/lowcmd/.test(refused.output()), `exit ${code}`);
    rogueNode.destroy();
    await sleep(1000);

    // 2. The fake robot.
    const robot = new rcl.Node("h1_check_fake_robot", "") as any;
    const lowcmds: LowCmd[] = [];
    const problems: string[] = [];
    const lowcmdDefs = messageDefinitions("unitree_go/LowCmd");
    const state = robotState();
    H1_JOINTS.forEach((j, k) => (state.q[k] = j.home));
    state.imuQuat.set([1, 0, 0, 0]);
    state.imuAcc.set([0, 0, 9.81]);
    const target = motorCommand();
    robot.createSubscription(ROS2_TYPES.lowcmd, "/lowcmd", {}, (msg: LowCmd) => {
      lowcmds.push(msg);
      const p = messageProblems(lowcmdDefs, msg).concat(lowCmdProblem(msg) ?? []);
      if (p.length && problems.length < 5) problems.push(...p);
      motorCommandFromLowCmd(msg, target);
    });
    let keys = 0;
    let tick = 0;
    const lowstate = robot.createPublisher(ROS2_TYPES.lowstate, "/lowstate");
    const timer = setInterval(() => {
      // A joint moves toward its target where the command is stiff (a crude stand-in for the motors).
      for (let j = 0; j < H1_NUM_JOINTS; j++) if (target.kp[j] > 0) state.q[j] += (target.q[j] - state.q[j]) * 0.05;
      lowstate.publish(buildLowState(state, (tick += 2), encodeRemote({ keys })));
    }, 2);
    const jointStates: JointState[] = [];
    const diagnostics: DiagnosticArray[] = [];
    const events: string[] = [];
    robot.createSubscription(ROS2_TYPES.jointState, "/joint_states", {}, (m: JointState) => jointStates.push(m));
    robot.createSubscription(ROS2_TYPES.diagnostics, "/diagnostics", {}, (m: DiagnosticArray) => diagnostics.push(m));
    robot.createSubscription(ROS2_TYPES.string, `/${NODE}/safety_events`, {}, (m: StringMessage) => events.push(JSON.parse(m.data).to));
    robot.spin();
    const press = async (...names: RemoteKey[]) => {
      keys = names.reduce((m, k) => m | (1 << REMOTE_KEYS[k]), 0);
      await sleep(200);
      keys = 0;
      await sleep(200);
    };
    const call = async (name: string): Promise<TriggerResponse | null> => {
      const client = robot.createClient(ROS2_TYPES.trigger, `/${NODE}/${name}`);
      if (!(await client.waitForService(5000))) return null;
      return (await client.sendRequestAsync({}, { timeout: 5000 })) as TriggerResponse;
    };
    const until = async (cond: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!cond() && Date.now() < end) await sleep(20);
      return cond();
    };
    const lastMode = () => diagnostics.at(-1)?.status[0].values.find((v) => v.key === "mode")?.value ?? "?";
    const stiff = (m: LowCmd | undefined) => !!m && Array.from(m.motor_cmd).some((c) => c.kp > 0);

    const node = spawnNode();
    check("the node starts and commands the robot", await until(() => lowcmds.length > 10, 30_000), `${lowcmds.length} LowCmd`);
    check("passive: zero torque", lowcmds.length > 0 && !stiff(lowcmds.at(-1)));
    await press("start");
    check("remote start -> stand-up (stiff LowCmd)", await until(() => stiff(lowcmds.at(-1)), 2000));
    check("stand-up ends in hold", await until(() => lastMode() === "hold", 5000), `mode ${lastMode()}`);
    await press("L2", "B");
    const estopped = await until(() => events.includes("estop") && !stiff(lowcmds.at(-1)), 2000);
    const last = lowcmds.at(-1);
    check("remote L2+B -> e-stop (kp 0, kd > 0)", estopped && !!last && Array.from(last.motor_cmd).some((c) => c.kd > 0), `events ${events.join(" ")}`);
    const latched = await call("mode/standup");
    check("service mode/standup refused while e-stopped", latched !== null && latched.success === false, latched?.message ?? "no service");
    const reset = await call("reset");
    check("service reset leaves e-stop", reset?.success === true, reset?.message ?? "no service");
    const estop = await call("estop");
    check("service estop", estop?.success === true && (await until(() => events.at(-1) === "estop", 2000)), estop?.message ?? "no service");
    check("every LowCmd matches LowCmd.msg and has a valid CRC, header, modes, slot 9 zero", problems.length === 0, problems.slice(0, 3).join("; ") || `${lowcmds.length} checked`);
    const js = jointStates.at(-1);
    check("/joint_states with the 19 URDF joint names", !!js && js.name.length === 19 && js.name.every((n, i) => n === JOINT_STATE_NAMES[i]), `${jointStates.length} received`);
    check("/diagnostics: mode, watchdogs, control loop, lowcmd link", (diagnostics.at(-1)?.status.length ?? 0) === 4, `${diagnostics.length} received`);
    const before = lowcmds.length;
    node.child.kill("SIGINT");
    const stopped = await exitWithin(node.exited, 10_000);
    await sleep(300);
    const final = lowcmds.at(-1);
    check("Ctrl-C: the node exits cleanly after a last damping command", stopped === 0 && lowcmds.length > before && !stiff(final) && !!final && Array.from(final.motor_cmd).some((c) => c.kd > 0), `exit ${stopped}`);
    clearInterval(timer);
    robot.destroy();
  } catch (err) {
    check("the check ran to the end", false, (err as Error).stack ?? String(err));
  } finally {
    cleanup();
    rcl.shutdown();
  }
  const failed = checks.filter((c) => !c.ok);
  console.log(failed.length ? `FAIL: ${failed.length} of ${checks.length} checks failed` : `PASS: all ${checks.length} checks of the ROS 2 path passed`);
  return failed.length ? 1 : 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { node: { type: "boolean", default: false }, domain: { type: "string", default: "42" }, "keep-env": { type: "boolean", default: false } } });
  try {
    // The child exits outright: nothing of ROS 2 may keep it alive once the node has stopped.
    if (values.node) process.exit(await runNode([]));
    return await runCheck(values.domain!, values["keep-env"]!);
  } catch (err) {
    if (err instanceof Ros2Unavailable) {
      console.error(`FAIL: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
