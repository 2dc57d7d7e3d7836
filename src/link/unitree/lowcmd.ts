// MotorCommand (the runtime's per-joint command in H1 joint order) -> unitree_go LowCmd, by joint name:
// the header, each driven slot's motor mode, float32 targets and gains, unused slot 9 all zero, every
// other field zero, and the CRC over the C layout. And the reverse, with the checks the robot makes, for
// robot-side code (the loopback test, the fake robot of `npm run check:ros2`).
import type { MotorCommand } from "../../sim/h1-sim.ts";
import { H1_NUM_JOINTS } from "../../robot/h1.ts";
import { LEVEL_FLAG, LOWCMD_HEAD, MOTOR_MODE, NUM_MOTOR_SLOTS, UNUSED_SLOT } from "./constants.ts";
import { lowCmdCrc } from "./crc.ts";
import { LOWCMD_SIZE } from "./lowcmd-layout.ts";
import { emptyLowCmd, emptyMotorCmd, type LowCmd } from "./messages.ts";
import { JOINT_SLOT, SLOT_MODE } from "./slots.ts";

/** Builds LowCmd messages into one reused object (publish it before the next build). */
export class LowCmdBuilder {
  readonly message: LowCmd = emptyLowCmd();
  private readonly scratch = new Uint8Array(LOWCMD_SIZE);

  constructor() {
    this.message.head = [...LOWCMD_HEAD];
    this.message.level_flag = LEVEL_FLAG.LOWLEVEL;
  }

  /** The LowCmd for `command`, CRC included. Throws RangeError on a non-finite value or a negative gain
   * (the safety filter never lets one through; this is the last guard before the motors). */
  build(command: MotorCommand): LowCmd {
    const msg = this.message;
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      const slot = JOINT_SLOT[j];
      const m = msg.motor_cmd[slot];
      if (!(command.kp[j] >= 0) || !(command.kd[j] >= 0)) {
        throw new RangeError(`joint ${j}: gains must be finite and >= 0 (kp ${command.kp[j]}, kd ${command.kd[j]})`);
      }
      // float32 on the wire: store what the robot will read, so the CRC and the CDR bytes agree.
      m.mode = SLOT_MODE[slot];
      m.q = Math.fround(command.q[j]);
      m.dq = Math.fround(command.dq[j]);
      m.tau = Math.fround(command.tau[j]);
      m.kp = Math.fround(command.kp[j]);
      m.kd = Math.fround(command.kd[j]);
    }
    Object.assign(msg.motor_cmd[UNUSED_SLOT], emptyMotorCmd());
    msg.crc = 0;
    msg.crc = lowCmdCrc(msg, this.scratch); // packing also refuses non-finite floats
    return msg;
  }
}

/** What the robot would object to in a LowCmd, or null when it would take it. */
export function lowCmdProblem(msg: LowCmd, scratch?: Uint8Array): string | null {
  if (msg.head[0] !== LOWCMD_HEAD[0] || msg.head[1] !== LOWCMD_HEAD[1]) return `head is [${msg.head}], expected [0xFE, 0xEF]`;
  if (msg.level_flag !== LEVEL_FLAG.LOWLEVEL) return `level_flag is ${msg.level_flag}, expected 0xFF`;
  let crc: number;
  try {
    crc = lowCmdCrc(msg, scratch);
  } catch (err) {
    return (err as Error).message;
  }
  if (crc !== msg.crc) return `crc is 0x${msg.crc.toString(16)}, the layout gives 0x${crc.toString(16)}`;
  for (let slot = 0; slot < NUM_MOTOR_SLOTS; slot++) {
    const m = msg.motor_cmd[slot];
    if (slot === UNUSED_SLOT) {
      if (m.mode || m.q || m.dq || m.tau || m.kp || m.kd) return "slot 9 (unused) is not all zero";
    } else if (m.mode !== SLOT_MODE[slot] && m.mode !== MOTOR_MODE.STOP) {
      return `slot ${slot}: mode 0x${m.mode.toString(16)}, expected 0x${SLOT_MODE[slot].toString(16)}`;
    }
  }
  return null;
}

/** The per-joint command a LowCmd carries (by joint name), into `out`. */
export function motorCommandFromLowCmd(msg: LowCmd, out: MotorCommand): MotorCommand {
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const m = msg.motor_cmd[JOINT_SLOT[j]];
    out.q[j] = m.q;
    out.dq[j] = m.dq;
    out.tau[j] = m.tau;
    out.kp[j] = m.kp;
    out.kd[j] = m.kd;
  }
  return out;
}
