// The LowCmd CRC exactly as the robot checks it (Unitree's crc32_core; h1-interface-and-runtimes.md §A4):
// over the packed C layout read as little-endian uint32 words, all but the last (the crc field itself):
// 202 words. Polynomial 0x04C11DB7, initial 0xFFFFFFFF, MSB first, no reflection, no final XOR. A frame
// with a wrong CRC is dropped silently by the firmware, and no simulator checks it.
import { LOWCMD_SIZE, packLowCmd } from "./lowcmd-layout.ts";
import type { LowCmd } from "./messages.ts";

const POLY = 0x04c11db7;
export const LOWCMD_CRC_WORDS = (LOWCMD_SIZE >> 2) - 1; // 202

/** Unitree's crc32_core over 32-bit words, bit by bit as in motor_crc.cpp. */
export function crc32Core(words: ArrayLike<number>): number {
  let crc = 0xffffffff;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] >>> 0;
    for (let bit = 31; bit >= 0; bit--) {
      const top = crc & 0x80000000;
      crc = (crc << 1) >>> 0;
      if (top) crc = (crc ^ POLY) >>> 0;
      if ((word >>> bit) & 1) crc = (crc ^ POLY) >>> 0;
    }
  }
  return crc;
}

/** CRC of an 812-byte packed LowCmd (its first 202 little-endian words). */
export function packedLowCmdCrc(packed: Uint8Array): number {
  if (packed.length !== LOWCMD_SIZE) throw new RangeError(`a packed LowCmd is ${LOWCMD_SIZE} bytes, got ${packed.length}`);
  const v = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const words = new Uint32Array(LOWCMD_CRC_WORDS);
  for (let i = 0; i < LOWCMD_CRC_WORDS; i++) words[i] = v.getUint32(4 * i, true);
  return crc32Core(words);
}

/** CRC of a LowCmd message: pack it into the C layout, then crc32_core (its crc field is ignored). */
export function lowCmdCrc(cmd: LowCmd, scratch?: Uint8Array): number {
  return packedLowCmdCrc(packLowCmd(cmd, scratch));
}
