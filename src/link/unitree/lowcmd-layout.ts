// LowCmd as the robot's firmware sees it: the 812-byte C struct of unitree_go LowCmd with natural
// alignment (h1-interface-and-runtimes.md §A4). The CRC is computed over these bytes, not over the ROS
// CDR encoding, so the padding must be zero and every field at its C offset. Integer fields out of their
// type's range are refused rather than wrapped: these bytes go to the motors.
import { NUM_MOTOR_SLOTS, SIZES } from "./constants.ts";
import { emptyLowCmd, type LowCmd } from "./messages.ts";

export const LOWCMD_SIZE = 812;
export const MOTOR_CMD_SIZE = 36;

/** Byte offsets of the C layout. Padding: 22-23, 3 bytes after each motor's mode, 803. */
export const LOWCMD_OFFSETS = {
  head: 0,
  level_flag: 2,
  frame_reserve: 3,
  sn: 4,
  version: 12,
  bandwidth: 20,
  motor_cmd: 24,
  bms_cmd: 744,
  wireless_remote: 748,
  led: 788,
  fan: 800,
  gpio: 802,
  reserve: 804,
  crc: 808,
} as const;

/** Offsets inside one MotorCmd (36 bytes, 3 padding bytes after mode). */
export const MOTOR_CMD_OFFSETS = { mode: 0, q: 4, dq: 8, tau: 12, kp: 16, kd: 20, reserve: 24 } as const;

function integer(value: number, bits: 8 | 16 | 32, field: string): number {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`LowCmd.${field} = ${value} is not a uint${bits}`);
  return value;
}

function float(value: number, field: string): number {
  if (!Number.isFinite(value) || Math.abs(value) > 3.4028234663852886e38) throw new RangeError(`LowCmd.${field} = ${value} is not a finite float32`);
  return value;
}

function checkLength(a: ArrayLike<number>, n: number, field: string): void {
  if (a.length !== n) throw new RangeError(`LowCmd.${field} has ${a.length} entries, unitree_go has ${n}`);
}

/** The C layout of `cmd` in `out` (zeroed first, so padding is zero); returns `out`. */
export function packLowCmd(cmd: LowCmd, out: Uint8Array = new Uint8Array(LOWCMD_SIZE)): Uint8Array {
  if (out.length !== LOWCMD_SIZE) throw new RangeError(`a packed LowCmd is ${LOWCMD_SIZE} bytes, got ${out.length}`);
  out.fill(0);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const O = LOWCMD_OFFSETS;
  const u8s = (a: ArrayLike<number>, n: number, at: number, field: string) => {
    checkLength(a, n, field);
    for (let i = 0; i < n; i++) v.setUint8(at + i, integer(a[i], 8, `${field}[${i}]`));
  };
  const u32s = (a: ArrayLike<number>, n: number, at: number, field: string) => {
    checkLength(a, n, field);
    for (let i = 0; i < n; i++) v.setUint32(at + 4 * i, integer(a[i], 32, `${field}[${i}]`), true);
  };
  u8s(cmd.head, SIZES.head, O.head, "head");
  v.setUint8(O.level_flag, integer(cmd.level_flag, 8, "level_flag"));
  v.setUint8(O.frame_reserve, integer(cmd.frame_reserve, 8, "frame_reserve"));
  u32s(cmd.sn, SIZES.sn, O.sn, "sn");
  u32s(cmd.version, SIZES.version, O.version, "version");
  v.setUint16(O.bandwidth, integer(cmd.bandwidth, 16, "bandwidth"), true);
  if (cmd.motor_cmd.length !== NUM_MOTOR_SLOTS) throw new RangeError(`LowCmd.motor_cmd has ${cmd.motor_cmd.length} entries, unitree_go has ${NUM_MOTOR_SLOTS}`);
  const M = MOTOR_CMD_OFFSETS;
  for (let i = 0; i < NUM_MOTOR_SLOTS; i++) {
    const m = cmd.motor_cmd[i];
    const at = O.motor_cmd + MOTOR_CMD_SIZE * i;
    const f = `motor_cmd[${i}]`;
    v.setUint8(at + M.mode, integer(m.mode, 8, `${f}.mode`));
    v.setFloat32(at + M.q, float(m.q, `${f}.q`), true);
    v.setFloat32(at + M.dq, float(m.dq, `${f}.dq`), true);
    v.setFloat32(at + M.tau, float(m.tau, `${f}.tau`), true);
    v.setFloat32(at + M.kp, float(m.kp, `${f}.kp`), true);
    v.setFloat32(at + M.kd, float(m.kd, `${f}.kd`), true);
    u32s(m.reserve, SIZES.motorCmdReserve, at + M.reserve, `${f}.reserve`);
  }
  v.setUint8(O.bms_cmd, integer(cmd.bms_cmd.off, 8, "bms_cmd.off"));
  u8s(cmd.bms_cmd.reserve, SIZES.bmsCmdReserve, O.bms_cmd + 1, "bms_cmd.reserve");
  u8s(cmd.wireless_remote, SIZES.wirelessRemote, O.wireless_remote, "wireless_remote");
  u8s(cmd.led, SIZES.led, O.led, "led");
  u8s(cmd.fan, SIZES.fan, O.fan, "fan");
  v.setUint8(O.gpio, integer(cmd.gpio, 8, "gpio"));
  v.setUint32(O.reserve, integer(cmd.reserve, 32, "reserve"), true);
  v.setUint32(O.crc, integer(cmd.crc, 32, "crc"), true);
  return out;
}

/** The LowCmd in a packed C layout (what a robot-side reader sees). */
export function unpackLowCmd(bytes: Uint8Array): LowCmd {
  if (bytes.length !== LOWCMD_SIZE) throw new RangeError(`a packed LowCmd is ${LOWCMD_SIZE} bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const O = LOWCMD_OFFSETS;
  const M = MOTOR_CMD_OFFSETS;
  const u8s = (n: number, at: number) => Array.from({ length: n }, (_, i) => v.getUint8(at + i));
  const u32s = (n: number, at: number) => Array.from({ length: n }, (_, i) => v.getUint32(at + 4 * i, true));
  const cmd = emptyLowCmd();
  cmd.head = u8s(SIZES.head, O.head);
  cmd.level_flag = v.getUint8(O.level_flag);
  cmd.frame_reserve = v.getUint8(O.frame_reserve);
  cmd.sn = u32s(SIZES.sn, O.sn);
  cmd.version = u32s(SIZES.version, O.version);
  cmd.bandwidth = v.getUint16(O.bandwidth, true);
  cmd.motor_cmd = cmd.motor_cmd.map((_, i) => {
    const at = O.motor_cmd + MOTOR_CMD_SIZE * i;
    return {
      mode: v.getUint8(at + M.mode),
      q: v.getFloat32(at + M.q, true),
      dq: v.getFloat32(at + M.dq, true),
      tau: v.getFloat32(at + M.tau, true),
      kp: v.getFloat32(at + M.kp, true),
      kd: v.getFloat32(at + M.kd, true),
      reserve: u32s(SIZES.motorCmdReserve, at + M.reserve),
    };
  });
  cmd.bms_cmd = { off: v.getUint8(O.bms_cmd), reserve: u8s(SIZES.bmsCmdReserve, O.bms_cmd + 1) };
  cmd.wireless_remote = u8s(SIZES.wirelessRemote, O.wireless_remote);
  cmd.led = u8s(SIZES.led, O.led);
  cmd.fan = u8s(SIZES.fan, O.fan);
  cmd.gpio = v.getUint8(O.gpio);
  cmd.reserve = v.getUint32(O.reserve, true);
  cmd.crc = v.getUint32(O.crc, true);
  return cmd;
}
