// The wireless remote inside LowState: keys and sticks decoded at the reference's byte offsets, key
// combinations bound to actions, fired on the press and never again while held.
import assert from "node:assert/strict";
import { test } from "node:test";
import { comboMask, decodeRemote, encodeRemote, pressedKeys, REMOTE_KEYS, RemoteBindings, type RemoteKey } from "../src/link/unitree/remote.ts";

const keys = (...names: RemoteKey[]) => names.reduce((m, k) => m | (1 << REMOTE_KEYS[k]), 0);

test("keys and sticks decode from the documented offsets", () => {
  // Built by hand, byte by byte, from h1-interface-and-runtimes.md §A8.
  const bytes = new Uint8Array(40);
  bytes[0] = 0x55;
  bytes[1] = 0x51; // head: ignored
  const v = new DataView(bytes.buffer);
  v.setUint16(2, (1 << 5) | (1 << 9) | (1 << 15), true); // L2, B, left
  v.setFloat32(4, 0.25, true); // lx
  v.setFloat32(8, -0.5, true); // rx
  v.setFloat32(12, 0.75, true); // ry
  v.setFloat32(16, 1, true); // analog L2
  v.setFloat32(20, -1, true); // ly
  bytes.fill(0xaa, 24); // idle bytes: ignored
  const r = decodeRemote(Array.from(bytes));
  assert.deepEqual(r, { keys: 0x8220, lx: 0.25, ly: -1, rx: -0.5, ry: 0.75, l2: 1 });
  assert.deepEqual(pressedKeys(r.keys), ["L2", "B", "left"]);
  assert.deepEqual(decodeRemote(encodeRemote(r)), r, "encode inverts decode");
  assert.throws(() => decodeRemote(new Uint8Array(39)), /40 bytes/);
});

test("the key bits are the reference's", () => {
  assert.deepEqual(REMOTE_KEYS, { R1: 0, L1: 1, start: 2, select: 3, R2: 4, L2: 5, F1: 6, F2: 7, A: 8, B: 9, X: 10, Y: 11, up: 12, right: 13, down: 14, left: 15 });
  assert.equal(comboMask("L2+B"), (1 << 5) | (1 << 9));
  assert.throws(() => comboMask("L2+Z"), /unknown key "Z"/);
});

test("holding a key fires once; releasing and pressing again fires again", () => {
  const b = new RemoteBindings({ "L2+B": "estop", start: "standup", A: "policy" });
  assert.deepEqual(b.update(0), []);
  assert.deepEqual(b.update(keys("start")), [{ combo: "start", action: "standup" }]);
  for (let i = 0; i < 100; i++) assert.deepEqual(b.update(keys("start")), [], "held: no repeat");
  assert.deepEqual(b.update(0), []);
  assert.deepEqual(b.update(keys("start")), [{ combo: "start", action: "standup" }]);
  assert.deepEqual(b.update(keys("start", "A")), [{ combo: "A", action: "policy" }], "a second key adds its own edge");
});

test("a combination fires when its last key goes down, in either order, and not on one key alone", () => {
  const b = new RemoteBindings({ "L2+B": "estop" });
  b.update(0);
  assert.deepEqual(b.update(keys("L2")), []);
  assert.deepEqual(b.update(keys("L2", "B")), [{ combo: "L2+B", action: "estop" }]);
  assert.deepEqual(b.update(keys("L2", "B")), []);
  assert.deepEqual(b.update(keys("B")), [], "releasing one key does not fire");
  assert.deepEqual(b.update(keys("B", "L2")), [{ combo: "L2+B", action: "estop" }], "pressing it again does");
  assert.deepEqual(b.update(keys("B", "L2", "A", "X")), [], "more keys while held: nothing new");
});

test("the first sample is only a baseline, except for the e-stop", () => {
  const held = new RemoteBindings({ "L2+B": "estop", start: "standup" });
  assert.deepEqual(held.update(keys("start")), [], "a key held while the node starts does nothing");
  assert.deepEqual(held.update(keys("start")), []);
  const stop = new RemoteBindings({ "L2+B": "estop", start: "standup" });
  assert.deepEqual(stop.update(keys("L2", "B", "start")), [{ combo: "L2+B", action: "estop" }]);
});

test("the e-stop wins over anything firing with it; a combination suppresses its own part", () => {
  const b = new RemoteBindings({ "L2+B": "estop", B: "hold", "R1+A": "policy", A: "damping" });
  b.update(0);
  assert.deepEqual(b.update(keys("L2", "B")), [{ combo: "L2+B", action: "estop" }], "B alone (hold) is suppressed");
  b.update(0);
  assert.deepEqual(b.update(keys("R1", "A")), [{ combo: "R1+A", action: "policy" }], "A alone (damping) is part of R1+A");
  b.update(0);
  assert.deepEqual(b.update(keys("A")), [{ combo: "A", action: "damping" }]);
});

test("bindings are checked: known keys and actions, an e-stop required", () => {
  assert.throws(() => new RemoteBindings({ start: "standup" }), /must include an e-stop/);
  assert.throws(() => new RemoteBindings({ "L2+B": "estop", Q: "hold" }), /unknown key "Q"/);
  assert.throws(() => new RemoteBindings({ "L2+B": "estop", A: "fly" as never }), /unknown action "fly"/);
});
