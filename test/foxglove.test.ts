// The Foxglove WebSocket protocol server, checked with the protocol's own client (what Foxglove Studio
// speaks): channels advertised with schemas, subscriptions, joint states and timings as JSON messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import wsProtocol from "@foxglove/ws-protocol";
import WebSocket from "ws";
import { FoxgloveBridge, FOXGLOVE_CHANNELS } from "../src/api/foxglove.ts";
import { LogHub } from "../src/api/logs.ts";
import { loadConfig } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { H1_JOINT_NAMES } from "../src/robot/h1.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const { FoxgloveClient } = wsProtocol;

test("Foxglove clients see the channels with schemas and get live joint states, timings and safety events", async () => {
  const config = loadConfig({ overrides: ["safety.watchdog.max_tilt_rad=1.5"], env: {} });
  const logs = new LogHub(silentLogger);
  const engine = await PolicyEngine.load(fixturePath("h1-untrained"), { logger: silentLogger });
  const link = await SimLink.create("h1-stand", 0);
  const node = new ControlNode({ config, link, logger: logs, engine });
  const bridge = await FoxgloveBridge.start(0, "127.0.0.1", node.telemetry, logs);
  const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}`, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
  const client = new FoxgloveClient({ ws: ws as never });
  const channels = new Map<string, { id: number; schemaName: string; schema: string; encoding: string }>();
  const received = new Map<number, unknown[]>();
  client.on("advertise", (list) => list.forEach((c) => channels.set(c.topic, c)));
  client.on("message", ({ subscriptionId, data }) => {
    const msgs = received.get(subscriptionId) ?? [];
    msgs.push(JSON.parse(new TextDecoder().decode(data)));
    received.set(subscriptionId, msgs);
  });
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    await until(() => channels.size === Object.keys(FOXGLOVE_CHANNELS).length);
    assert.deepEqual([...channels.keys()].sort(), Object.keys(FOXGLOVE_CHANNELS).sort());
    const js = channels.get("/joint_states")!;
    assert.equal(js.encoding, "json");
    assert.equal(js.schemaName, "sensor_msgs/JointState");
    assert.ok(JSON.parse(js.schema).properties.position);
    const subStates = client.subscribe(js.id);
    const subTimings = client.subscribe(channels.get("/timings")!.id);
    const subEvents = client.subscribe(channels.get("/safety_events")!.id);
    await new Promise((r) => setTimeout(r, 100)); // the subscriptions reach the server
    node.request("standup", "test");
    for (let i = 0; i < 5; i++) {
      await node.tick();
      link.advance();
    }
    node.request("estop", "foxglove test");
    await node.tick();
    await until(() => (received.get(subStates)?.length ?? 0) >= 6 && (received.get(subEvents)?.length ?? 0) >= 2);
    const states = received.get(subStates) as { name: string[]; position: number[] }[];
    assert.ok(states.length >= 6);
    assert.deepEqual(states[0].name, H1_JOINT_NAMES);
    assert.equal(states[0].position.length, 19);
    const timings = received.get(subTimings) as { total_ms: number; tick: number }[];
    assert.ok(timings.length >= 6 && timings.every((t) => t.total_ms >= 0));
    const events = received.get(subEvents) as { to: string; reason: string }[];
    assert.deepEqual(events.map((e) => e.to), ["standup", "estop"]);
  } finally {
    client.close();
    await bridge.close();
    await link.close();
    await engine.close();
  }
});
