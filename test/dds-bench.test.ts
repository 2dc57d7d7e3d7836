// `npm run bench -- --what dds`, briefly (100 round trips, 2 s of the 500 Hz stream, domains 48 and 49 on
// loopback), as a real process: the DDS records in the JSON have their shape, and their numbers are
// plausible (the bounds are loose: this machine is shared and loaded).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { DdsRecord } from "../src/bench/dds.ts";
import { skipWithoutDds } from "./helpers/dds.ts";
import { twice } from "./helpers/retry.ts";

const skip = skipWithoutDds();
if (skip) console.log(`# dds-bench: skipped: ${skip}`);
const TRIPS = 100;
const SECONDS = 2;

test("bench --what dds: round trips through an echo process and the simulator, the 500 Hz stream's intervals", { skip, timeout: 360_000 }, () => twice("dds-bench", () => {
  const json = join(mkdtempSync(join(tmpdir(), "dds-bench-")), "bench.json");
  const args = ["--what", "dds", "--dds-domain", "48", "--dds-trips", String(TRIPS), "--dds-s", String(SECONDS), "--json", json];
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/bench.ts", ...args], { encoding: "utf8", timeout: 170_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /dds: (skipped|not measured)/);
  const records = JSON.parse(readFileSync(json, "utf8")) as DdsRecord[];
  assert.deepEqual(records.map((x) => x.name), ["dds/round-trip/echo", "dds/lowcmd-interval/source", "dds/lowcmd-interval/receive", "dds/round-trip/sim"]);
  for (const x of records) {
    assert.equal(x.kind, "dds");
    assert.equal(x.interface, "lo");
    assert.match(x.cyclonedds, /^0\.10\./);
    assert.ok(x.p50_ms > 0 && x.p50_ms <= x.p99_ms && x.p99_ms <= x.max_ms, `${x.name}: ordered positive percentiles ${JSON.stringify(x)}`);
    assert.match(r.stdout, new RegExp(`^${x.name}: .*p50 ${x.p50_ms} ms p99 ${x.p99_ms} ms max ${x.max_ms} ms`, "m"), "printed like the other records");
  }
  for (const x of records.filter((x) => x.measure === "round_trip")) {
    assert.equal(x.n + x.lost, TRIPS);
    assert.ok(x.lost <= TRIPS / 10, `${x.name}: ${x.lost} of ${TRIPS} round trips unanswered`);
    // Loopback and two wake-ups: well under a 50 Hz tick even on a loaded machine, at the median.
    assert.ok(x.p50_ms < 20, `${x.name}: p50 ${x.p50_ms} ms`);
    assert.equal(x.clock, null);
  }
  const [source, receive] = [records[1], records[2]];
  for (const x of [source, receive]) {
    assert.equal(x.period_ms, 2);
    // Plausibility, not performance (the bench reports that): loose bounds that hold on a loaded machine.
    assert.ok(x.n > 0.5 * SECONDS * 500 && x.n < 1.2 * SECONDS * 500, `${x.name}: ${x.n} intervals in ${SECONDS} s`);
    assert.ok(Math.abs(x.p50_ms - 2) < 1, `${x.name}: interval p50 ${x.p50_ms} ms at 500 Hz`);
    assert.ok(x.deviation && x.deviation.n === x.n && x.deviation.p50_ms >= 0 && x.deviation.p99_ms <= x.deviation.max_ms);
    assert.ok(x.lost <= x.n / 5, `${x.name}: ${x.lost} samples lost`);
  }
  // The writer's own timestamps: the native repeater's period holds on average whatever the subscriber does.
  assert.ok(Math.abs(source.mean_ms - 2) < 1, `source interval mean ${source.mean_ms} ms`);
  console.log(`# dds-bench: ${records.map((x) => `${x.name} p50/p99/max ${x.p50_ms}/${x.p99_ms}/${x.max_ms} ms`).join("; ")}`);
}));
