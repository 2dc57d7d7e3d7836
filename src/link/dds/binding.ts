// The CycloneDDS addon (native/dds), loaded only when a DDS link is asked for: it is optional, built by
// `npm run build:dds` (setup.sh runs it) when CycloneDDS is installed. Without it, DdsUnavailable says
// what to install. Entities are CycloneDDS handles (numbers); samples are the bytes of the C structs
// (./layout.ts, ../unitree/lowcmd-layout.ts).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type DdsType = "LowCmd" | "LowState" | "WirelessController";

export interface RepeaterStats {
  writes: number;
  stale: number;
  errors: number;
  meanIntervalMs: number;
  stdIntervalMs: number;
  maxIntervalMs: number;
  /** Whether the repeater thread got real-time priority (SCHED_FIFO). */
  realtime: boolean;
}

export interface DdsBinding {
  readonly ddsVersion: string;
  createParticipant(domainId: number, configXml: string | null): number;
  createWriter(participant: number, topic: string, type: DdsType, reliable: boolean, depth: number): number;
  /** `onSample` runs on the JavaScript thread with a copy of each sample and its source time (ms since the epoch). */
  createReader(participant: number, topic: string, type: DdsType, reliable: boolean, depth: number, onSample: (bytes: Buffer, sourceTimeMs: number) => void): number;
  write(writer: number, bytes: Uint8Array): void;
  /** Writer: readers matched; reader: writers matched. */
  matched(entity: number): number;
  close(entity: number): void;
  /** One per process: writes the latest command at `hz` from a native thread, damping once it is older than maxAgeMs. */
  startRepeater(writer: number, hz: number, maxAgeMs: number): void;
  setRepeated(command: Uint8Array, damping: Uint8Array): void;
  stopRepeater(): void;
  repeaterStats(): RepeaterStats | null;
  layout(): Record<DdsType, Record<string, number>>;
  typeNames(): Record<DdsType, string>;
}

export const ADDON_PATH = fileURLToPath(new URL("../../../native/dds/build/Release/h1_dds.node", import.meta.url));

export const DDS_INSTALL =
  "sudo apt-get install cyclonedds-dev cyclonedds-tools (CycloneDDS 0.10, the H1's), then npm run build:dds; docs/dds.md";

export class DdsUnavailable extends Error {
  override name = "DdsUnavailable";
}

let cached: DdsBinding | null = null;

/** The addon, or DdsUnavailable saying what to install. */
export function loadDds(path = ADDON_PATH): DdsBinding {
  if (cached && path === ADDON_PATH) return cached;
  if (!existsSync(path)) {
    throw new DdsUnavailable(`the CycloneDDS addon is not built (${path}): the DDS link (link.kind: dds) needs it: ${DDS_INSTALL}`);
  }
  try {
    const b = createRequire(import.meta.url)(path) as DdsBinding;
    if (path === ADDON_PATH) cached = b;
    return b;
  } catch (err) {
    throw new DdsUnavailable(`the CycloneDDS addon could not be loaded (${(err as Error).message.split("\n")[0]}): rebuild it: ${DDS_INSTALL}`);
  }
}

/** Whether the addon can be loaded here (tests skip on false, saying why). */
export function ddsAvailable(): { ok: true } | { ok: false; why: string } {
  try {
    loadDds();
    return { ok: true };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}

/** CycloneDDS configuration for one network interface (multicast off on loopback, which lacks it). */
export function interfaceConfigXml(name: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,64}$/.test(name)) throw new RangeError(`not a network interface name: ${JSON.stringify(name)}`);
  const loopback = name === "lo" || name.startsWith("lo0");
  return (
    `<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="${name}"/></Interfaces>` +
    (loopback ? "<AllowMulticast>false</AllowMulticast>" : "") +
    `</General>` +
    (loopback ? `<Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery>` : "") +
    `</Domain></CycloneDDS>`
  );
}
