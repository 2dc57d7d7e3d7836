// The ROS 2 link to the real H1: the only file that touches rclnodejs (an optional dependency, loaded
// here with a dynamic import only when link.kind is ros2). Subscribes LowState, publishes LowCmd (built,
// CRC'd and checked in src/link/unitree/), refuses to start while another node publishes LowCmd, and,
// once attached to the node, publishes /joint_states, /diagnostics and the policy's telemetry, offers the
// e-stop and mode services and acts on the remote's bindings, all through NodeControl. Everything it
// publishes is built by pure, tested code (messages.ts, operator.ts, repeat.ts, ../unitree/).
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeControl } from "../../api/control.ts";
import { TickStats } from "../../api/tick-stats.ts";
import type { Config } from "../../config/config.ts";
import { jointLimits } from "../../safety/limits.ts";
import { robotState, type MotorCommand } from "../../sim/h1-sim.ts";
import type { TelemetryRing } from "../../telemetry/ring.ts";
import type { Logger } from "../../util/log.ts";
import { copyLinkState, type LinkState, type RobotLink } from "../link.ts";
import { LowCmdBuilder } from "../unitree/lowcmd.ts";
import { readLowState } from "../unitree/lowstate.ts";
import type { LowState } from "../unitree/messages.ts";
import { decodeRemote, pressedKeys, RemoteBindings, type RemoteAction } from "../unitree/remote.ts";
import { diagnosticsMessage, jointStateMessage, policyTelemetryMessage, ROS2_TYPES, safetyEventMessage, stampFromEpochMs, type LinkCounters } from "./messages.ts";
import { applyRemote, OPERATOR_SERVICES, runAction } from "./operator.ts";
import { CommandRepeater, dampingCommand } from "./repeat.ts";

export const SOURCE_ROS2 = "source /opt/ros/humble/setup.bash";

export class Ros2Unavailable extends Error {
  override name = "Ros2Unavailable";
}

/** What this file uses of rclnodejs (its own types come with the package, which may be absent here). */
interface RosPublisher {
  publish(message: object): void;
}
interface RosNode {
  createPublisher(type: string, topic: string, options?: object): RosPublisher;
  createSubscription(type: string, topic: string, options: object, callback: (message: never) => void): unknown;
  createService(type: string, name: string, callback: (request: unknown) => Promise<object>): unknown;
  countPublishers(topic: string): number;
  getPublishersInfoByTopic(topic: string, noDemangle: boolean): { node_name?: string; node_namespace?: string }[];
  spin(): void;
  destroy(): void;
}
interface QoSClass {
  new (history: number, depth: number, reliability: number): object;
  HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: number };
  ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: number; RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: number };
}
export interface Rclnodejs {
  init(): Promise<void>;
  Node: new (name: string, namespace?: string) => RosNode;
  QoS: QoSClass;
  shutdown(): void;
  isShutdown(): boolean;
}

/** rclnodejs, or Ros2Unavailable saying what to source. */
export async function loadRclnodejs(env: NodeJS.ProcessEnv = process.env, load: (name: string) => Promise<unknown> = (name) => import(name)): Promise<Rclnodejs> {
  if (!env.ROS_DISTRO && !env.AMENT_PREFIX_PATH) {
    throw new Ros2Unavailable(
      `source ROS 2 first: ${SOURCE_ROS2} (and unitree_ros2's cyclonedds_ws/install/setup.bash for the unitree_go messages); ` +
        "the ROS 2 link (link.kind: ros2) cannot start without it (docs/ros2.md)",
    );
  }
  // rclnodejs shuts ROS 2 down on SIGINT by itself; the runtime's own handler must still get to send the
  // final damping command (close()), so its handler is taken off again.
  const before = new Set(process.listeners("SIGINT"));
  try {
    const m = (await load("rclnodejs")) as { default?: Rclnodejs } & Rclnodejs;
    return m.default ?? m;
  } catch (err) {
    throw new Ros2Unavailable(
      `rclnodejs could not be loaded (${(err as Error).message.split("\n")[0]}): source ROS 2 first: ${SOURCE_ROS2} and unitree_ros2's ` +
        "cyclonedds_ws/install/setup.bash, then npm install (rclnodejs is an optional dependency built against the sourced ROS 2; docs/ros2.md)",
    );
  } finally {
    for (const l of process.listeners("SIGINT")) if (!before.has(l)) process.off("SIGINT", l);
  }
}

export interface AttachOptions {
  control: NodeControl;
  telemetry: TelemetryRing;
}

export class Ros2Link implements RobotLink {
  readonly kind = "ros2" as const;
  readonly real = true;
  private readonly state: LinkState = { robot: robotState(), receivedAtMs: -Infinity };
  private haveState = false;
  private sentAny = false;
  private readonly dampingKd: Float64Array;
  private readonly builder = new LowCmdBuilder();
  private readonly repeater: CommandRepeater | null;
  private readonly counters: LinkCounters = { statesReceived: 0, commandsPublished: 0, commandsRefused: 0, lowcmdPublishers: 0, remoteKeys: [] };
  private readonly remote: RemoteBindings | null;
  private control: NodeControl | null = null;
  private pendingEstop: string | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly rcl: Rclnodejs,
    private readonly node: RosNode,
    private readonly lowcmd: RosPublisher,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    const r = config.link.ros2;
    this.dampingKd = jointLimits(config.safety).dampingKd;
    this.repeater = r.lowcmd_repeat_hz > 0 ? new CommandRepeater(r.repeat_max_age_ms, this.dampingKd) : null;
    const bindings = Object.fromEntries(Object.entries(config.remote.bindings).filter(([, a]) => a !== null)) as Record<string, RemoteAction>;
    this.remote = config.remote.enabled ? new RemoteBindings(bindings) : null;
  }

  /** Start ROS 2, check that nobody else commands the motors, subscribe LowState, advertise LowCmd. */
  static async create(config: Config, logger: Logger, rcl?: Rclnodejs): Promise<Ros2Link> {
    rcl ??= await loadRclnodejs();
    const r = config.link.ros2;
    await rcl.init();
    const node = new rcl.Node(r.node_name, r.namespace);
    const fail = (message: string): never => {
      node.destroy();
      rcl.shutdown();
      throw new Error(message);
    };
    node.spin();
    // Discovery takes a moment: listen for the whole window before advertising our own publisher.
    const deadline = performance.now() + r.lowcmd_check_s * 1000;
    do {
      let others = 0;
      try {
        others = node.countPublishers(r.topics.lowcmd);
      } catch (err) {
        fail(`cannot query publishers of ${r.topics.lowcmd}: ${(err as Error).message}`);
      }
      if (others > 0) {
        const who = node.getPublishersInfoByTopic(r.topics.lowcmd, false).map((p) => `${p.node_namespace ?? ""}/${p.node_name ?? "?"}`.replace("//", "/"));
        fail(
          `another node publishes ${r.topics.lowcmd} (${others}: ${who.join(", ") || "unnamed DDS writer"}); two commanders would fight over the motors. ` +
            "Stop it first (the robot's own motion control included: the H1 must be in debug mode, L2+R2 on its remote while it hangs in the gantry)",
        );
      }
      await sleep(50);
    } while (performance.now() < deadline);
    const { QoS } = rcl;
    const keepLast = QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST;
    let lowcmd: RosPublisher;
    try {
      // Reliable is compatible with any reader on the robot; the depth keeps only the latest command.
      lowcmd = node.createPublisher(ROS2_TYPES.lowcmd, r.topics.lowcmd, { qos: new QoS(keepLast, r.qos_depth, QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE) });
    } catch (err) {
      return fail(
        `cannot create the ${ROS2_TYPES.lowcmd} publisher (${(err as Error).message}): source unitree_ros2's cyclonedds_ws/install/setup.bash before installing, ` +
          "or regenerate rclnodejs's messages with it sourced: npx generate-ros-messages",
      );
    }
    const link = new Ros2Link(rcl, node, lowcmd, config, logger);
    // Best effort takes the robot's state from any writer, reliable or not; only the latest matters.
    node.createSubscription(ROS2_TYPES.lowstate, r.topics.lowstate, { qos: new QoS(keepLast, r.qos_depth, QoS.ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT) }, (msg: never) =>
      link.onLowState(msg as LowState),
    );
    if (link.repeater) link.timers.push(setInterval(() => link.repeat(), 1000 / r.lowcmd_repeat_hz));
    logger.log("info", `ROS 2 link: node ${r.namespace || ""}/${r.node_name}, ${r.topics.lowstate} -> ${r.topics.lowcmd}`);
    return link;
  }

  private onLowState(msg: LowState): void {
    this.counters.statesReceived++;
    // The robot reports tick 0 until its first real frame (unitree_rl_gym waits for it): no state yet.
    if (msg.tick !== 0) {
      readLowState(msg, this.state.robot);
      this.state.receivedAtMs = performance.now();
      this.haveState = true;
    }
    if (!this.remote) return;
    const keys = decodeRemote(msg.wireless_remote).keys;
    this.pendingEstop = applyRemote(this.remote.update(keys), this.control, this.logger) ?? this.pendingEstop;
    if (keys !== 0 || this.counters.remoteKeys.length) this.counters.remoteKeys = pressedKeys(keys);
  }

  readState(out: LinkState): boolean {
    if (!this.haveState) return false;
    copyLinkState(this.state, out);
    return true;
  }

  send(command: MotorCommand): void {
    if (this.closed) return;
    this.repeater?.update(command, performance.now());
    this.publish(command);
    this.sentAny = true;
  }

  private repeat(): void {
    const due = this.repeater?.due(performance.now());
    if (due && !this.closed) this.publish(due.command);
  }

  private publish(command: MotorCommand): void {
    let msg;
    try {
      msg = this.builder.build(command);
    } catch (err) {
      // Nothing is published: the robot keeps the previous command (the supervisor never produces this).
      if (this.counters.commandsRefused++ < 10) this.logger.log("error", `LowCmd refused: ${(err as Error).message}`);
      return;
    }
    this.lowcmd.publish(msg);
    this.counters.commandsPublished++;
  }

  /** Once the node exists: services, the remote's actions, /joint_states, /diagnostics, telemetry. */
  attach({ control, telemetry }: AttachOptions): void {
    const r = this.config.link.ros2;
    const node = this.node;
    this.control = control;
    if (this.pendingEstop) void runAction(control, "estop", `remote ${this.pendingEstop} (before the node was up)`);
    for (const s of OPERATOR_SERVICES) node.createService(ROS2_TYPES.trigger, `~/${s.name}`, () => s.call(control));
    const jointStates = node.createPublisher(ROS2_TYPES.jointState, r.topics.joint_states);
    const diagnostics = node.createPublisher(ROS2_TYPES.diagnostics, r.topics.diagnostics);
    const policy = node.createPublisher(ROS2_TYPES.string, "~/policy");
    const events = node.createPublisher(ROS2_TYPES.string, "~/safety_events");
    const wallMs = (perfMs: number) => performance.timeOrigin + perfMs;
    this.unsubscribe.push(
      telemetry.onTick((ring, from, to) => {
        for (let seq = from; seq < to; seq++) {
          const rec = ring.get(seq);
          if (!rec || this.closed) continue;
          const stamp = stampFromEpochMs(wallMs(rec.timeMs));
          jointStates.publish(jointStateMessage(rec, stamp));
          if (rec.policyRan) policy.publish(policyTelemetryMessage(rec));
        }
      }),
      telemetry.onEvent((e) => this.closed || events.publish(safetyEventMessage(e))),
    );
    const stats = new TickStats(telemetry);
    const periodMs = 1000 / this.config.control.rate_hz;
    const hardwareId = `${r.namespace || ""}/${r.node_name}`;
    this.timers.push(
      setInterval(async () => {
        if (this.closed) return;
        try {
          this.counters.lowcmdPublishers = node.countPublishers(r.topics.lowcmd);
          const status = await control.status();
          const ticks = { ticks: stats.ticks, deadlineMisses: stats.deadlineMisses, overruns: stats.overruns, nonFinite: stats.nonFinite, latency: stats.latency() };
          diagnostics.publish(diagnosticsMessage({ stamp: stampFromEpochMs(Date.now()), node: r.node_name, hardwareId, status, latest: telemetry.latest(), ticks, periodMs, link: this.counters }));
        } catch (err) {
          this.logger.log("warn", `diagnostics: ${(err as Error).message}`);
        }
      }, 1000 / r.diagnostics_hz),
    );
  }

  /** Last, damping at the measured pose (as unitree_rl_gym ends), so the robot is not left at a stiff target
   * when the node stops; then ROS 2 down. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true; // no more commands from the loop, repeats or telemetry
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribe) u();
    if (this.sentAny && !this.rcl.isShutdown()) {
      try {
        this.publish(dampingCommand(this.state.robot.q, this.dampingKd));
        await sleep(50); // let the reliable writer deliver it
      } catch (err) {
        this.logger.log("error", `could not send the final damping command: ${(err as Error).message}`);
      }
    }
    this.node.destroy();
    if (!this.rcl.isShutdown()) this.rcl.shutdown();
  }
}
