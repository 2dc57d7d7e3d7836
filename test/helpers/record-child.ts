// The crash test's victim: runs the control node in simulation at 50 Hz with the h1-untrained policy and
// records it into argv[2], printing "started <file>" and then "tick <n> <wall ms>" after each tick (stdout
// on a pipe is synchronous), until it is killed.
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../../src/config/config.ts";
import { ControlNode } from "../../src/control/node.ts";
import { SimLink } from "../../src/link/sim-link.ts";
import { PolicyEngine } from "../../src/policy/engine.ts";
import { Recorder } from "../../src/telemetry/recorder.ts";
import { silentLogger } from "../../src/util/log.ts";
import { fixturePath } from "./fixtures.ts";

const dir = process.argv[2];
const config = loadConfig({ overrides: ["safety.soft_start_s=0"], env: {} });
const engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
const link = await SimLink.create("h1-stand", 0);
const node = new ControlNode({ config, link, logger: silentLogger, engine });
const recorder = new Recorder(node.telemetry);
const file = await recorder.start(dir, { prefix: "crash" });
process.stdout.write(`started ${file}\n`);
node.beginSimulatedEpisode();
const periodMs = 1000 / config.control.rate_hz;
for (let next = performance.now(); ; ) {
  const rec = await node.tick();
  link.advance();
  process.stdout.write(`tick ${rec.tick} ${Date.now()}\n`);
  next += periodMs;
  await sleep(Math.max(0, next - performance.now()));
}
