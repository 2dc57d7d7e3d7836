// The LowCmd CRC against a second, independently written implementation: table-driven CRC-32/MPEG-2
// (byte-wise, MSB first) fed each little-endian 32-bit word byte-swapped (h1-interface-and-runtimes.md
// §A4). The table implementation is itself anchored on the catalogued check value of CRC-32/MPEG-2.
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32Core, LOWCMD_CRC_WORDS, lowCmdCrc, packedLowCmdCrc } from "../src/link/unitree/crc.ts";
import { LowCmdBuilder } from "../src/link/unitree/lowcmd.ts";
import { LOWCMD_SIZE, packLowCmd } from "../src/link/unitree/lowcmd-layout.ts";
import { H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { motorCommand } from "../src/sim/h1-sim.ts";

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32/MPEG-2: width 32, poly 0x04C11DB7, init 0xFFFFFFFF, refin/refout false, xorout 0. */
function crc32Mpeg2(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  return crc >>> 0;
}

/** The first `words` little-endian words of `bytes`, each fed most significant byte first. */
function byteSwappedWords(bytes: Uint8Array, words: number): Uint8Array {
  const out = new Uint8Array(words * 4);
  for (let w = 0; w < words; w++) for (let k = 0; k < 4; k++) out[4 * w + k] = bytes[4 * w + 3 - k];
  return out;
}

function littleEndianWords(bytes: Uint8Array, words: number): Uint32Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: words }, (_, i) => v.getUint32(4 * i, true));
}

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("the independent CRC-32/MPEG-2 has the catalogued check value", () => {
  assert.equal(crc32Mpeg2(new TextEncoder().encode("123456789")), 0x0376e6e7);
  assert.equal(crc32Mpeg2(new Uint8Array(0)), 0xffffffff);
});

test("crc32Core over words equals CRC-32/MPEG-2 over the byte-swapped words", () => {
  // "123456789" padded to 3 words: the word-wise CRC of the bytes "1234" "5678" "9\0\0\0" fed MSB first.
  const text = new Uint8Array(12);
  text.set(new TextEncoder().encode("123456789"));
  assert.equal(crc32Core(littleEndianWords(byteSwappedWords(text, 3), 3)), crc32Mpeg2(text));
  assert.equal(crc32Core([]), 0xffffffff);
  assert.equal(crc32Core([0x31323334, 0x35363738]), crc32Mpeg2(new TextEncoder().encode("12345678")));
  const random = rng(1);
  for (let n = 0; n < 20; n++) {
    const bytes = Uint8Array.from({ length: LOWCMD_SIZE }, () => Math.floor(random() * 256));
    const expected = crc32Mpeg2(byteSwappedWords(bytes, LOWCMD_CRC_WORDS));
    assert.equal(crc32Core(littleEndianWords(bytes, LOWCMD_CRC_WORDS)), expected);
    assert.equal(packedLowCmdCrc(bytes), expected, "the packed-layout entry point reads the same 202 words");
  }
});

test("the CRC covers bytes 0..807 of the 812-byte layout and not the crc field itself", () => {
  assert.equal(LOWCMD_CRC_WORDS, 202);
  const random = rng(2);
  const bytes = Uint8Array.from({ length: LOWCMD_SIZE }, () => Math.floor(random() * 256));
  const base = packedLowCmdCrc(bytes);
  for (let i = 0; i < LOWCMD_SIZE; i++) {
    const flipped = bytes.slice();
    flipped[i] ^= 1 << (i % 8);
    const changed = packedLowCmdCrc(flipped) !== base;
    assert.equal(changed, i < 808, `byte ${i}`);
  }
});

test("every LowCmd the builder makes carries the CRC of its C layout", () => {
  const random = rng(3);
  const builder = new LowCmdBuilder();
  const cmd = motorCommand();
  for (let n = 0; n < 50; n++) {
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      cmd.q[j] = (random() - 0.5) * 6;
      cmd.dq[j] = (random() - 0.5) * 40;
      cmd.tau[j] = (random() - 0.5) * 400;
      cmd.kp[j] = random() * 400;
      cmd.kd[j] = random() * 20;
    }
    const msg = builder.build(cmd);
    const packed = packLowCmd(msg);
    assert.equal(msg.crc, crc32Mpeg2(byteSwappedWords(packed, LOWCMD_CRC_WORDS)));
    assert.equal(lowCmdCrc(msg), msg.crc);
    assert.equal(new DataView(packed.buffer).getUint32(808, true), msg.crc, "the crc field sits at byte 808");
  }
});
