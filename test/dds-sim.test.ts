// Sim-in-the-loop across processes over DDS, as on the robot: the simulator process (`npm run sim -- --link
// dds`, domain 47 on loopback) and, here, the control node on the DDS link. The operator's remote is the
// simulator's (its stdin): start -> stand-up -> hold, the pose reached and the robot up (hanging in the
// simulator's elastic band, as a real bring-up hangs in a gantry), then L2+B -> e-stop, which the
// simulated motors must see as damping. Also: a second commander is refused while one writes rt/lowcmd.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { InProcessControl } from "../src/api/control.ts";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { DdsLink } from "../src/link/dds/dds-link.ts";
import type { SimStatus } from "../src/link/dds/sim-server.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { silentLogger } from "../src/util/log.ts";
import { skipWithoutDds } from "./helpers/dds.ts";
import { twice } from "./helpers/retry.ts";

const skip = skipWithoutDds();
if (skip) console.log(`# dds-sim: skipped: ${skip}`);
const DOMAIN = 47;

test("the control node drives the simulator process over DDS: remote start to hold, pose reached, robot up, L2+B e-stop", { skip, timeout: 180_000 }, () => twice("dds-sim", async () => {
  const sim = spawn(process.execPath, ["--import", "tsx", "src/cli/sim.ts", "--link", "dds", "--domain", String(DOMAIN), "--interface", "lo", "--status-s", "0.2"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  sim.stderr.on("data", (d) => (stderr += d));
  let status: SimStatus | null = null;
  createInterface({ input: sim.stdout }).on("line", (l) => (status = JSON.parse(l) as SimStatus));
  const exited = new Promise<number | null>((resolve) => sim.on("exit", resolve));
  const config = loadConfig({
    env: {},
    overrides: ["link.kind=dds", `link.dds.domain_id=${DOMAIN}`, "link.dds.interface=lo", "link.dds.lowcmd_check_s=0.2", "safety.standup_s=1.0"],
  });
  const link = await DdsLink.create(config, silentLogger);
  const node = new ControlNode({ config, link, logger: silentLogger, engine: null });
  const control = new InProcessControl({ config, node, engine: null, loadPolicy: () => Promise.reject(new Error("no policy here")), logger: silentLogger });
  link.attach({ control });
  const modes = new Set<string>();
  const run = async (seconds: number, until?: () => boolean) => {
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end && !until?.()) {
      modes.add((await node.tick()).mode);
      await sleep(20);
    }
  };
  try {
    await run(30, () => node.telemetry.latest()?.robotTick !== undefined && node.telemetry.latest()!.robotTick > 0);
    assert.ok(node.telemetry.latest()!.robotTick > 0, `no LowState from the simulator process: ${stderr}`);
    assert.equal(node.supervisor.mode, "passive");

    await assert.rejects(DdsLink.create({ ...config, link: { ...config.link, dds: { ...config.link.dds, lowcmd_check_s: 2 } } }, silentLogger), /another writer publishes rt\/lowcmd/);

    sim.stdin.write("press start\n");
    await run(4, () => node.supervisor.mode === "hold");
    assert.ok(modes.has("standup"), `modes seen: ${[...modes]}`);
    assert.equal(node.supervisor.mode, "hold");
    await run(1.5);
    assert.equal(node.supervisor.mode, "hold", "hold kept: fresh state, ticking robot, upright");
    const rec = node.telemetry.latest()!;
    const errors = H1_JOINTS.map((j, i) => Math.abs(rec.q[i] - j.home));
    assert.ok(Math.max(...errors) < 0.1, `pose reached: largest joint error ${Math.max(...errors).toFixed(3)} rad`);
    assert.ok(rec.stateAgeMs < 20, `state age ${rec.stateAgeMs} ms`);
    const up = status as SimStatus | null;
    assert.ok(up && up.pelvis_z > 0.85 && up.tilt_rad < 0.2, `robot up: ${JSON.stringify(up)}`);
    assert.ok(up.kp_max > 0, "the simulated motors are stiff in hold");
    assert.equal(up.lowcmd_rejected, 0, `frames the robot would drop: ${up.last_problem}`);

    sim.stdin.write("press L2+B\n");
    await run(2, () => node.supervisor.mode === "estop");
    assert.equal(node.supervisor.mode, "estop");
    await run(0.5);
    const after = status as SimStatus | null;
    assert.ok(after && after.kp_max === 0 && after.kd_max > 0, `e-stop reached the motors as damping: ${JSON.stringify(after)}`);
    const stats = link.repeaterStats()!;
    assert.ok(stats.writes > 500 && stats.errors === 0, JSON.stringify(stats));
    // With real-time priority the stream keeps its period on a loaded machine; without, allow for preemption.
    assert.ok(Math.abs(stats.meanIntervalMs - 2) < (stats.realtime ? 0.2 : 0.6), `LowCmd at 500 Hz: ${JSON.stringify(stats)}`);
    console.log(`# dds-sim: LowCmd repeater ${JSON.stringify(stats)}; simulator ${JSON.stringify(after)}`);
    assert.ok(H1_NUM_JOINTS === rec.q.length);
  } finally {
    await link.close();
    sim.stdin.write("quit\n");
    await exited;
  }
}));
