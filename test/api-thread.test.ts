// The API in its own thread, as npm start runs it: requests reach the node through messages, telemetry
// arrives in the thread's mirror ring, and a recording started through the API is read back by the
// independent Python reader.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InProcessControl } from "../src/api/control.ts";
import { LogHub } from "../src/api/logs.ts";
import { ApiThread } from "../src/api/thread.ts";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const TOKEN = "thread-token-0123456789";
const PYTHON = ".venv/bin/python";
const hasReader = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import mcap, mcap_ros2"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

test("API thread: status, e-stop and recording through messages to the node", async (t) => {
  const recordings = mkdtempSync(join(tmpdir(), "rec-"));
  const config = loadConfig({ overrides: ["api.port=0", "api.foxglove_port=0", `api.recordings_dir=${recordings}`, "safety.watchdog.max_tilt_rad=1.5"], env: {} });
  const logs = new LogHub(silentLogger);
  const engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
  const link = await SimLink.create("h1-stand", 0);
  const node = new ControlNode({ config, link, logger: logs, engine });
  const control = new InProcessControl({ config, node, engine, logger: logs, loadPolicy: (d) => PolicyEngine.load(d, { logger: silentLogger }) });
  const api = await ApiThread.start({ config, control, ring: node.telemetry, logs, token: TOKEN });
  const ticks = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await node.tick();
      link.advance();
      await new Promise((r) => setImmediate(r)); // let the forwarding and the API thread's requests run
    }
  };
  const post = (path: string, body: object = {}, token = true) =>
    fetch(api.url + path, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${TOKEN}` } : {}) }, body: JSON.stringify(body) });
  try {
    node.beginSimulatedEpisode();
    await ticks(10);
    const status = await (await fetch(api.url + "/api/status")).json();
    assert.equal(status.mode, "policy");
    assert.ok(status.ticks.count >= 5, `ticks seen by the API thread: ${status.ticks.count}`);
    assert.equal((await post("/api/mode", { mode: "hold" }, false)).status, 401);

    const started = await post("/api/recording/start");
    assert.equal(started.status, 200, await started.clone().text());
    const file = (await started.json()).file as string;
    await ticks(60);
    const stop = await post("/api/estop", { reason: "thread test" }, false);
    assert.equal((await stop.json()).mode, "estop");
    assert.equal(node.supervisor.mode, "estop", "the node itself is in e-stop");
    await ticks(5);
    await new Promise((r) => setTimeout(r, 200));
    const stopped = await (await post("/api/recording/stop")).json();
    assert.ok(stopped.files_written.length >= 1 && existsSync(file));
    if (!hasReader) return t.skip("the Python mcap reader is not installed (.venv/bin/python -m pip install mcap mcap-ros2-support)");
    const summary = JSON.parse(execFileSync(PYTHON, ["scripts/read_recording.py", file], { encoding: "utf8" }));
    const topics = summary.files[0].topics;
    assert.equal(summary.files[0].complete, true);
    const count = (topic: string) => (topics[topic]?.count ?? 0) as number;
    assert.ok(count("/command") >= 60, JSON.stringify(summary).slice(0, 400));
    assert.ok(count("/safety_events") >= 1);
    assert.ok(JSON.stringify(summary).includes("e-stop from the API"));
  } finally {
    await api.close();
    await link.close();
    await engine.close();
  }
});
