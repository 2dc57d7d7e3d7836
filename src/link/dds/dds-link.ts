// The direct Unitree DDS link (link.kind dds): the robot's own topics and types over CycloneDDS, no ROS 2.
// Reads rt/lowstate (best effort), writes rt/lowcmd (reliable, keep-last, never blocking) with the CRC
// over the C layout on every frame, and repeats the latest command from a native thread at lowcmd_hz
// (500 Hz) whatever the JavaScript thread is doing; a command older than repeat_max_age_ms is repeated as
// damping. Refuses to start while another writer commands the motors. The remote's keys come from
// LowState.wireless_remote, as on the ROS 2 link; rt/wirelesscontroller is read for status only.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeControl } from "../../api/control.ts";
import type { Config } from "../../config/config.ts";
import { jointLimits } from "../../safety/limits.ts";
import { motorCommand, robotState, type MotorCommand } from "../../sim/h1-sim.ts";
import type { Logger } from "../../util/log.ts";
import { copyLinkState, type LinkState, type RobotLink } from "../link.ts";
import { applyRemote, runAction } from "../ros2/operator.ts";
import { dampingCommand } from "../ros2/repeat.ts";
import { LowCmdBuilder } from "../unitree/lowcmd.ts";
import { LOWCMD_SIZE, packLowCmd } from "../unitree/lowcmd-layout.ts";
import type { WirelessController } from "../unitree/messages.ts";
import { decodeRemote, pressedKeys, RemoteBindings, type RemoteAction, type RemoteState } from "../unitree/remote.ts";
import { interfaceConfigXml, loadDds, type DdsBinding } from "./binding.ts";
import { packedRemote, readPackedLowState, unpackWireless } from "./layout.ts";

export interface DdsCounters {
  statesReceived: number;
  commandsWritten: number;
  commandsRefused: number;
  /** The latest rt/wirelesscontroller sample, if any. */
  wireless: WirelessController | null;
  remoteKeys: string[];
}

export class DdsLink implements RobotLink {
  readonly kind = "dds" as const;
  readonly real = true;
  readonly counters: DdsCounters = { statesReceived: 0, commandsWritten: 0, commandsRefused: 0, wireless: null, remoteKeys: [] };
  private readonly state: LinkState = { robot: robotState(), receivedAtMs: -Infinity };
  private readonly scratch: LinkState = { robot: robotState(), receivedAtMs: 0 };
  private haveState = false;
  private sentAny = false;
  private readonly builder = new LowCmdBuilder();
  private readonly frame = new Uint8Array(LOWCMD_SIZE);
  private readonly dampFrame = new Uint8Array(LOWCMD_SIZE);
  private readonly damped = motorCommand();
  private readonly dampingKd: Float64Array;
  private readonly remote: RemoteBindings | null;
  private readonly remoteState: RemoteState = { keys: 0, lx: 0, ly: 0, rx: 0, ry: 0, l2: 0 };
  private control: NodeControl | null = null;
  private pendingEstop: string | null = null;
  private readonly readers: number[] = [];
  private closing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly dds: DdsBinding,
    private readonly participant: number,
    private readonly writer: number,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.dampingKd = jointLimits(config.safety).dampingKd;
    const bindings = Object.fromEntries(Object.entries(config.remote.bindings).filter(([, a]) => a !== null)) as Record<string, RemoteAction>;
    this.remote = config.remote.enabled ? new RemoteBindings(bindings) : null;
  }

  /** Join the domain, check that nobody else commands the motors, read LowState, write LowCmd. */
  static async create(config: Config, logger: Logger, dds: DdsBinding = loadDds()): Promise<DdsLink> {
    const c = config.link.dds;
    const participant = dds.createParticipant(c.domain_id, c.interface ? interfaceConfigXml(c.interface) : null);
    try {
      // Discovery takes a moment: listen for the whole window before writing ourselves.
      if (c.lowcmd_check_s > 0) {
        const probe = dds.createReader(participant, c.topics.lowcmd, "LowCmd", false, 1, () => {});
        const deadline = performance.now() + c.lowcmd_check_s * 1000;
        let others = 0;
        while (performance.now() < deadline && (others = dds.matched(probe)) === 0) await sleep(25);
        dds.close(probe);
        if (others > 0) {
          throw new Error(
            `another writer publishes ${c.topics.lowcmd} on DDS domain ${c.domain_id} (${others}); two commanders would fight over the motors. ` +
              "Stop it first (the robot's own motion control included: the H1 must be in debug mode, L2+R2 on its remote while it hangs in the gantry)",
          );
        }
      }
      const writer = dds.createWriter(participant, c.topics.lowcmd, "LowCmd", true, c.qos_depth);
      const link = new DdsLink(dds, participant, writer, config, logger);
      link.readers.push(
        dds.createReader(participant, c.topics.lowstate, "LowState", false, c.qos_depth, (bytes) => link.onLowState(bytes)),
        dds.createReader(participant, c.topics.wirelesscontroller, "WirelessController", false, 1, (bytes) => {
          link.counters.wireless = unpackWireless(bytes);
        }),
      );
      if (c.lowcmd_hz > 0) dds.startRepeater(writer, c.lowcmd_hz, c.repeat_max_age_ms);
      logger.log(
        "info",
        `DDS link: CycloneDDS ${dds.ddsVersion}, domain ${c.domain_id}, interface ${c.interface ?? (process.env.CYCLONEDDS_URI ? "from CYCLONEDDS_URI" : "default")}, ` +
          `${c.topics.lowstate} -> ${c.topics.lowcmd}` + (c.lowcmd_hz > 0 ? ` repeated at ${c.lowcmd_hz} Hz` : ""),
      );
      return link;
    } catch (err) {
      dds.close(participant);
      throw err;
    }
  }

  private onLowState(bytes: Uint8Array): void {
    if (this.closed) return;
    this.counters.statesReceived++;
    // The robot reports tick 0 until its first real frame (unitree_rl_gym waits for it): no state yet.
    if (readPackedLowState(bytes, this.scratch.robot) !== 0) {
      const s = this.state.robot;
      const t = this.scratch.robot;
      s.q.set(t.q);
      s.dq.set(t.dq);
      s.tauEst.set(t.tauEst);
      s.imuQuat.set(t.imuQuat);
      s.imuGyro.set(t.imuGyro);
      s.imuAcc.set(t.imuAcc);
      s.tick = t.tick;
      this.state.receivedAtMs = performance.now();
      this.haveState = true;
    }
    if (!this.remote) return;
    const keys = decodeRemote(packedRemote(bytes), this.remoteState).keys;
    this.pendingEstop = applyRemote(this.remote.update(keys), this.control, this.logger) ?? this.pendingEstop;
    if (keys !== 0 || this.counters.remoteKeys.length) this.counters.remoteKeys = pressedKeys(keys);
  }

  readState(out: LinkState): boolean {
    if (!this.haveState) return false;
    copyLinkState(this.state, out);
    return true;
  }

  /** Written at once, and handed to the repeater with its damping fallback (damping at the commanded pose). */
  send(command: MotorCommand): void {
    if (this.closed) return;
    if (!this.pack(command, this.frame)) return;
    if (this.config.link.dds.lowcmd_hz > 0 && this.pack(dampingCommand(command.q, this.dampingKd, this.damped), this.dampFrame)) {
      this.dds.setRepeated(this.frame, this.dampFrame);
    }
    this.write(this.frame);
    this.sentAny = true;
  }

  /** The LowCmd for `command` in its C layout, CRC included; false (nothing sent) if the builder refuses it. */
  private pack(command: MotorCommand, out: Uint8Array): boolean {
    try {
      packLowCmd(this.builder.build(command), out);
      return true;
    } catch (err) {
      // The robot keeps the previous command (the supervisor never produces this).
      if (this.counters.commandsRefused++ < 10) this.logger.log("error", `LowCmd refused: ${(err as Error).message}`);
      return false;
    }
  }

  private write(frame: Uint8Array): void {
    try {
      this.dds.write(this.writer, frame);
      this.counters.commandsWritten++;
    } catch (err) {
      this.logger.log("error", `LowCmd not written: ${(err as Error).message}`);
    }
  }

  /** Once the node exists: the remote's actions go to it (an e-stop held at start is applied now). */
  attach({ control }: { control: NodeControl }): void {
    this.control = control;
    if (this.pendingEstop) void runAction(control, "estop", `remote ${this.pendingEstop} (before the node was up)`);
  }

  /** The native repeater's statistics (null when commands are not repeated). */
  repeaterStats() {
    return this.dds.repeaterStats();
  }

  /** Readers of our LowCmd currently matched (the robot, a simulator, a monitor). */
  lowcmdReaders(): number {
    return this.closed ? 0 : this.dds.matched(this.writer);
  }

  /** Last, damping at the measured pose (as unitree_rl_gym ends), so the robot is not left at a stiff target. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.dds.stopRepeater();
    if (this.sentAny && this.pack(dampingCommand(this.state.robot.q, this.dampingKd, this.damped), this.frame)) {
      this.write(this.frame);
      await sleep(50); // let the reliable writer deliver it
    }
    this.dds.close(this.participant);
  }
}
