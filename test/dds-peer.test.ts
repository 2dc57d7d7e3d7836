// The DDS link against an independent peer: a Python process using the `cyclonedds` package and IDL
// dataclasses of its own (test/helpers/dds_peer.py) plays the H1 on loopback, domain 46. It checks every
// LowCmd the link writes as the robot would (its own CRC over the packed C layout, header, modes, slot 9)
// and the values by slot; it writes LowState with known values, which must reach the link by joint name.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../src/config/config.ts";
import { DdsLink } from "../src/link/dds/dds-link.ts";
import type { LinkState } from "../src/link/link.ts";
import { JOINT_SLOT, SLOT_MODE } from "../src/link/unitree/slots.ts";
import { H1_NUM_JOINTS } from "../src/robot/h1.ts";
import { motorCommand, robotState } from "../src/sim/h1-sim.ts";
import { silentLogger } from "../src/util/log.ts";
import { loopbackEnv, skipWithoutPythonPeer, VENV_PYTHON } from "./helpers/dds.ts";

const skip = skipWithoutPythonPeer();
if (skip) console.log(`# dds-peer: skipped: ${skip}`);
const DOMAIN = 46;

interface PeerSummary {
  mode: number[];
  q: number[];
  kp: number[];
  kd: number[];
  tau: number[];
  crc: number;
}
interface PeerResult {
  received: number;
  accepted: number;
  problems: string[];
  first: PeerSummary | null;
  last: PeerSummary | null;
  ticks_written: number;
}

test("a Python CycloneDDS peer accepts every LowCmd (CRC, header, modes, values by slot) and its LowState reaches the link", { skip, timeout: 60_000 }, async () => {
  const peer = spawn(VENV_PYTHON, ["test/helpers/dds_peer.py", "--domain", String(DOMAIN), "--seconds", "20", "--count", "150"], {
    env: loopbackEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  peer.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: peer.stdout });
  const outputs: string[] = [];
  const ready = new Promise<void>((resolve) => lines.on("line", (l) => (outputs.push(l), l.includes('"ready"') && resolve())));
  const exited = new Promise<number | null>((resolve) => peer.on("exit", resolve));
  await Promise.race([ready, exited]);
  assert.ok(outputs.length, `the peer did not start: ${stderr}`);

  // One command per control tick (no repetition), so the peer counts exactly what the loop sent.
  const config = loadConfig({ env: {}, overrides: ["link.kind=dds", `link.dds.domain_id=${DOMAIN}`, "link.dds.interface=lo", "link.dds.lowcmd_check_s=0", "link.dds.lowcmd_hz=0"] });
  const link = await DdsLink.create(config, silentLogger);
  const cmd = motorCommand();
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    cmd.q[j] = 0.05 * j - 0.3;
    cmd.kp[j] = 10 + j;
    cmd.kd[j] = 0.5 + 0.1 * j;
    cmd.tau[j] = j % 2 ? 1.5 : -1.5;
  }
  const state: LinkState = { robot: robotState(), receivedAtMs: 0 };
  let gotState = false;
  for (let i = 0; i < 400 && !(gotState && link.lowcmdReaders() > 0); i++) {
    await sleep(10);
    gotState = link.readState(state);
  }
  assert.ok(gotState, "LowState from the peer reached the link");
  for (let i = 0; i < 150; i++) {
    link.send(cmd);
    await sleep(4);
  }
  const result = JSON.parse(await new Promise<string>((resolve) => peer.on("exit", () => resolve(outputs.at(-1)!)))) as PeerResult;
  await exited;
  await link.close();

  assert.deepEqual(result.problems, [], "the peer's own checks");
  // Reliable keep-last 1: a burst may overwrite an undelivered sample (more of them on a loaded machine,
  // where the Python peer wakes late), but many arrive and every one that does is valid.
  assert.ok(result.accepted >= 30, `accepted ${result.accepted} of 150`);
  assert.equal(result.accepted, result.received);
  const last = result.last!;
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const s = JOINT_SLOT[j];
    assert.equal(last.q[s], Math.fround(cmd.q[j]), `q of joint ${j} in slot ${s}`);
    assert.equal(last.kp[s], Math.fround(cmd.kp[j]));
    assert.equal(last.kd[s], Math.fround(cmd.kd[j]));
    assert.equal(last.tau[s], Math.fround(cmd.tau[j]));
    assert.equal(last.mode[s], SLOT_MODE[s]);
  }
  assert.deepEqual([last.q[9], last.kp[9], last.mode[9]], [0, 0, 0], "slot 9 unused");

  // The peer's LowState by joint name: motor q = 0.1 + 0.01 slot, dq = -0.5 + 0.02 slot, tau_est = 1 + slot.
  link.readState(state);
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    const s = JOINT_SLOT[j];
    assert.equal(state.robot.q[j], Math.fround(0.1 + 0.01 * s));
    assert.equal(state.robot.dq[j], Math.fround(-0.5 + 0.02 * s));
    assert.equal(state.robot.tauEst[j], 1 + s);
  }
  assert.deepEqual(Array.from(state.robot.imuQuat), [1, 0, 0, 0]);
  assert.deepEqual(Array.from(state.robot.imuGyro), [0.1, 0.2, 0.3].map(Math.fround));
  assert.ok(state.robot.tick > 0 && state.robot.tick <= result.ticks_written);
});
