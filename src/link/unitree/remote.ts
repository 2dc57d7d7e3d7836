// The Unitree wireless remote as the H1 reports it inside LowState.wireless_remote[40]
// (h1-interface-and-runtimes.md §A8): bytes 2-3 a little-endian uint16 key bitfield, then float32 sticks
// lx (4), rx (8), ry (12), the analog L2 (16), ly (20). Bindings turn key combinations into operator
// actions on the press (the rising edge of the whole combination), never while a key is held.

/** Key bits of the remote's bitfield. */
export const REMOTE_KEYS = {
  R1: 0,
  L1: 1,
  start: 2,
  select: 3,
  R2: 4,
  L2: 5,
  F1: 6,
  F2: 7,
  A: 8,
  B: 9,
  X: 10,
  Y: 11,
  up: 12,
  right: 13,
  down: 14,
  left: 15,
} as const;
export type RemoteKey = keyof typeof REMOTE_KEYS;
export const REMOTE_KEY_NAMES = Object.keys(REMOTE_KEYS) as RemoteKey[];

export interface RemoteState {
  keys: number; // uint16 bitfield
  lx: number;
  ly: number;
  rx: number;
  ry: number;
  /** The analog L2 trigger. */
  l2: number;
}

/** Decode the 40 remote bytes of a LowState. */
export function decodeRemote(bytes: ArrayLike<number>, out: RemoteState = { keys: 0, lx: 0, ly: 0, rx: 0, ry: 0, l2: 0 }): RemoteState {
  if (bytes.length !== 40) throw new RangeError(`the remote's data is 40 bytes, got ${bytes.length}`);
  const b = Uint8Array.from(bytes);
  const v = new DataView(b.buffer);
  out.keys = v.getUint16(2, true);
  out.lx = v.getFloat32(4, true);
  out.rx = v.getFloat32(8, true);
  out.ry = v.getFloat32(12, true);
  out.l2 = v.getFloat32(16, true);
  out.ly = v.getFloat32(20, true);
  return out;
}

/** The 40 bytes of a remote state (for fake robots and tests); bytes 0-1 and 24-39 zero. */
export function encodeRemote(s: Partial<RemoteState>): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  v.setUint16(2, s.keys ?? 0, true);
  v.setFloat32(4, s.lx ?? 0, true);
  v.setFloat32(8, s.rx ?? 0, true);
  v.setFloat32(12, s.ry ?? 0, true);
  v.setFloat32(16, s.l2 ?? 0, true);
  v.setFloat32(20, s.ly ?? 0, true);
  return b;
}

/** Names of the keys down in a bitfield. */
export function pressedKeys(keys: number): RemoteKey[] {
  return REMOTE_KEY_NAMES.filter((k) => (keys >> REMOTE_KEYS[k]) & 1);
}

/** "L2+B" -> the bitmask of both keys; throws on an unknown key name. */
export function comboMask(combo: string): number {
  let mask = 0;
  for (const name of combo.split("+")) {
    const bit = REMOTE_KEYS[name as RemoteKey];
    if (bit === undefined) throw new Error(`remote binding "${combo}": unknown key "${name}"; keys: ${REMOTE_KEY_NAMES.join(", ")}`);
    mask |= 1 << bit;
  }
  return mask;
}

export type RemoteAction = "estop" | "passive" | "damping" | "standup" | "hold" | "policy";
export const REMOTE_ACTIONS: readonly RemoteAction[] = ["estop", "passive", "damping", "standup", "hold", "policy"];

export interface Fired {
  combo: string;
  action: RemoteAction;
}

/** Key combinations -> actions, fired on the press of the whole combination. The first sample only sets
 * the baseline (a key held while the node starts does nothing), except the e-stop, which fires then too.
 * When several fire at once, an e-stop suppresses the rest, and a combination that is part of another
 * firing one (B within L2+B) is suppressed. */
export class RemoteBindings {
  private readonly bindings: { combo: string; mask: number; action: RemoteAction }[];
  private previous: number | null = null;

  constructor(bindings: Record<string, RemoteAction>) {
    this.bindings = Object.entries(bindings).map(([combo, action]) => {
      if (!REMOTE_ACTIONS.includes(action)) throw new Error(`remote binding "${combo}": unknown action "${action}"; actions: ${REMOTE_ACTIONS.join(", ")}`);
      return { combo, mask: comboMask(combo), action };
    });
    if (!this.bindings.some((b) => b.action === "estop")) throw new Error("the remote's bindings must include an e-stop");
  }

  /** Feed the key bitfield of each new sample; returns what fires now. */
  update(keys: number): Fired[] {
    const first = this.previous === null;
    const prev = this.previous ?? 0;
    this.previous = keys;
    let fired = this.bindings.filter((b) => (keys & b.mask) === b.mask && (prev & b.mask) !== b.mask && (!first || b.action === "estop"));
    if (fired.some((b) => b.action === "estop")) fired = fired.filter((b) => b.action === "estop");
    fired = fired.filter((b) => !fired.some((o) => o !== b && (o.mask & b.mask) === b.mask && o.mask !== b.mask));
    return fired.map(({ combo, action }) => ({ combo, action }));
  }
}
