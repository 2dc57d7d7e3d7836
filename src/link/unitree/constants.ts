// Constants of the unitree_go low-level interface the original H1 speaks (h1-interface-and-runtimes.md
// §A2, §A5, §A6). Array sizes are those of the unitree_go .msg files; the robot drops frames that differ.

/** LowCmd.head: the two frame-start bytes every low-level command carries. */
export const LOWCMD_HEAD = [0xfe, 0xef] as const;

/** LowCmd.level_flag values (motor_crc.h). The runtime only ever sends LOWLEVEL. */
export const LEVEL_FLAG = { HIGHLEVEL: 0xee, LOWLEVEL: 0xff, TRIGERLEVEL: 0xf0 } as const;

/** q = PosStopF / dq = VelStopF with kp = kd = 0 mean "no position / velocity term" (not used here: the
 * runtime always sends finite targets with explicit gains). */
export const POS_STOP_F = 2.146e9;
export const VEL_STOP_F = 16000.0;

/** MotorCmd.mode: 0x01 enables a weak motor (ankles, arms), 0x0A a strong one (hips, knees, torso);
 * 0x00 stops it. */
export const MOTOR_MODE = { STOP: 0x00, WEAK: 0x01, STRONG: 0x0a } as const;

/** BmsCmd.off value that switches the battery off (never sent by the runtime). */
export const BMS_OFF = 0xa5;

/** unitree_go has 20 motor slots; the H1 leaves slot 9 unused. */
export const NUM_MOTOR_SLOTS = 20;
export const UNUSED_SLOT = 9;

/** Fixed array sizes of the unitree_go messages. */
export const SIZES = {
  head: 2,
  sn: 2,
  version: 2,
  wirelessRemote: 40,
  led: 12,
  fan: 2,
  motorCmdReserve: 3,
  bmsCmdReserve: 3,
  motorStateReserve: 2,
  quaternion: 4,
  vector3: 3,
  footForce: 4,
  fanFrequency: 4,
  bqNtc: 2,
  mcuNtc: 2,
  cellVol: 15,
} as const;
