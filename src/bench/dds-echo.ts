// The echo peer of the DDS bench (./dds.ts), run as its own process: `tsx dds-echo.ts DOMAIN INTERFACE`.
// On rt/lowcmd it answers a LowCmd carrying a marker (joint 0's target, a positive integer) at once with a
// LowState whose tick is that marker; for unmarked LowCmds (the 500 Hz repeated stream) it records when each
// arrived (its own monotonic clock) and its source timestamp (the writer's clock at dds_write). Prints
// "ready" once its entities exist; on the line "report" on stdin prints {recv_ms, source_ms} and exits.
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { interfaceConfigXml, loadDds } from "../link/dds/binding.ts";
import { LOWSTATE_OFFSETS, LOWSTATE_SIZE } from "../link/dds/layout.ts";
import { LOWCMD_SIZE } from "../link/unitree/lowcmd-layout.ts";
import { MARKER_OFFSET } from "./dds.ts";

function main(): void {
  const [domain, iface] = [Number(process.argv[2]), process.argv[3]];
  const dds = loadDds();
  const participant = dds.createParticipant(domain, interfaceConfigXml(iface));
  const state = new Uint8Array(LOWSTATE_SIZE);
  const stateView = new DataView(state.buffer);
  const writer = dds.createWriter(participant, "rt/lowstate", "LowState", false, 1);
  const recv: number[] = [];
  const source: number[] = [];
  // A deep reader history: a busy JavaScript thread then takes late samples, it does not lose them.
  dds.createReader(participant, "rt/lowcmd", "LowCmd", false, 64, (bytes, sourceTimeMs) => {
    if (bytes.length !== LOWCMD_SIZE) return;
    const marker = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(MARKER_OFFSET, true);
    if (marker > 0) {
      stateView.setUint32(LOWSTATE_OFFSETS.tick, marker, true);
      dds.write(writer, state);
    } else {
      recv.push(performance.now());
      source.push(sourceTimeMs);
    }
  });
  // The reader does not keep the process alive; stdin does, until "report".
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "report") return;
    process.stdout.write(JSON.stringify({ recv_ms: recv, source_ms: source }) + "\n", () => {
      dds.close(participant);
      process.exit(0);
    });
  });
  console.log("ready");
}

main();
