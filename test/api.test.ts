// The safety and telemetry API against a real control node on the simulated H1: routes, token, limits,
// policies, metrics, WebSocket telemetry, and a fuzz run over every route showing client errors are 4xx.
import assert from "node:assert/strict";
import { mkdtempSync, cpSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { LogHub } from "../src/api/logs.ts";
import { InProcessControl } from "../src/api/control.ts";
import { ApiServer } from "../src/api/server.ts";
import { loadConfig, type Config } from "../src/config/config.ts";
import { ControlNode } from "../src/control/node.ts";
import { SimLink } from "../src/link/sim-link.ts";
import { PolicyEngine } from "../src/policy/engine.ts";
import { SeededNormal } from "../src/policy/noise.ts";
import { silentLogger } from "../src/util/log.ts";
import { fixturePath } from "./helpers/fixtures.ts";

const TOKEN = "test-token-0123456789abcdef";
const auth = { authorization: `Bearer ${TOKEN}` };

interface Harness {
  api: ApiServer;
  node: ControlNode;
  link: SimLink;
  config: Config;
  url: string;
  ticks(n: number): Promise<void>;
  close(): Promise<void>;
}

async function harness(over: string[] = []): Promise<Harness> {
  const models = mkdtempSync(join(tmpdir(), "models-"));
  cpSync(fixturePath("h1-untrained"), join(models, "h1-untrained"), { recursive: true });
  cpSync(fixturePath("h1-untrained"), join(models, "h1-copy"), { recursive: true });
  cpSync(fixturePath("h1-untrained"), join(models, "broken"), { recursive: true });
  writeFileSync(join(models, "broken", "sampler.onnx"), "not onnx");
  const config = loadConfig({ overrides: ["api.port=0", `api.models_dir=${models}`, "safety.watchdog.max_tilt_rad=1.5", ...over], env: {} });
  const logs = new LogHub(silentLogger);
  const loadPolicy = (dir: string) => PolicyEngine.load(dir, { logger: logs });
  const engine = await loadPolicy(join(models, "h1-untrained"));
  const link = await SimLink.create("h1-stand", 0);
  const node = new ControlNode({ config, link, logger: logs, engine });
  const control = new InProcessControl({ config, node, engine, loadPolicy, logger: logs, episode: () => ({ ...link.episode }) });
  const api = new ApiServer({ config, control, ring: node.telemetry, logs, token: TOKEN });
  const url = await api.listen();
  return {
    api,
    node,
    link,
    config,
    url,
    async ticks(n) {
      for (let i = 0; i < n; i++) {
        await node.tick();
        link.advance();
      }
      await new Promise((r) => setImmediate(r));
    },
    async close() {
      await api.close();
      await link.close();
    },
  };
}

const call = (h: Harness, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
  h.api.app.inject({ method: method as "GET", url, payload: body as object, headers: body === undefined ? headers : { "content-type": "application/json", ...headers } });

let h: Harness;
before(async () => {
  h = await harness();
});
after(async () => h.close());

test("status reports mode, reason, policy, link and tick statistics", async () => {
  await h.ticks(5);
  const r = await call(h, "GET", "/api/status");
  assert.equal(r.statusCode, 200);
  const s = r.json();
  assert.equal(s.mode, "passive");
  assert.equal(s.policy.name, "h1-untrained");
  assert.ok(Number.isInteger(s.policy.threads) && s.policy.threads >= 0, `threads ${s.policy.threads}`);
  if (s.policy.path === "native" && s.policy.threads === 2) assert.ok(s.policy.helper_share >= 0 && s.policy.helper_share <= 1);
  else assert.equal(s.policy.helper_share, null);
  assert.equal(s.link.kind, "sim");
  assert.ok(s.ticks.count >= 5 && s.ticks.latency_ms.n >= 5);
  assert.equal((await call(h, "GET", "/api/health")).json().ok, true);
});

test("e-stop needs no token and latches; reset and mode changes need it; the table decides", async () => {
  assert.equal((await call(h, "POST", "/api/mode", { mode: "standup" })).statusCode, 401);
  assert.equal((await call(h, "POST", "/api/mode", { mode: "standup" }, { authorization: "Bearer wrong" })).statusCode, 401);
  const granted = await call(h, "POST", "/api/mode", { mode: "standup", reason: "test" }, auth);
  assert.equal(granted.statusCode, 200, granted.body);
  assert.equal(granted.json().mode, "standup");
  const refused = await call(h, "POST", "/api/mode", { mode: "policy" }, auth);
  assert.equal(refused.statusCode, 409);
  assert.match(refused.json().error, /policy is not reachable from standup/);
  const stop = await call(h, "POST", "/api/estop", { reason: "test" });
  assert.equal(stop.statusCode, 200);
  assert.equal(stop.json().mode, "estop");
  assert.equal((await call(h, "POST", "/api/estop")).json().mode, "estop", "a body is optional");
  assert.equal((await call(h, "POST", "/api/mode", { mode: "passive" }, auth)).statusCode, 409, "latched");
  assert.equal((await call(h, "POST", "/api/estop/reset")).statusCode, 401);
  const reset = await call(h, "POST", "/api/estop/reset", {}, auth);
  assert.equal(reset.json().mode, "passive");
  assert.equal((await call(h, "POST", "/api/estop/reset", {}, auth)).statusCode, 409);
});

test("runtime parameters within their bounds apply; others are 400 with a message", async () => {
  const ok = await call(h, "PATCH", "/api/params", { K: 4, soft_start_s: 0.5, soft_limit_factor: 0.9 }, auth);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().K, 4);
  assert.equal(h.node.engine!.candidatesPerObservation, 4);
  const knee = 3;
  assert.ok(Math.abs(h.node.limits.upper[knee] - (0.895 + 1.155 * 0.9)) < 1e-9, "limits recomputed");
  for (const bad of [{ K: 0 }, { K: 2.5 }, { soft_limit_factor: 2 }, { velocity_command: [1, 2] }, { unknown: 1 }, {}]) {
    const r = await call(h, "PATCH", "/api/params", bad, auth);
    assert.equal(r.statusCode, 400, JSON.stringify(bad));
    assert.ok(r.json().error.length > 0);
  }
  await call(h, "PATCH", "/api/params", { K: 8, soft_limit_factor: 0.95 }, auth);
});

test("policies: list, inspect, load only in passive or hold, validated before it replaces the running one", async () => {
  const list = (await call(h, "GET", "/api/policies")).json();
  assert.deepEqual(list.policies.map((p: { name: string }) => p.name), ["broken", "h1-copy", "h1-untrained"]);
  assert.equal(list.policies[0].ok, false);
  assert.match(list.policies[0].error, /SHA-256 mismatch/);
  assert.equal((await call(h, "GET", "/api/policies/h1-copy")).json().name, "h1-untrained");
  assert.equal((await call(h, "GET", "/api/policies/nope")).statusCode, 404);
  assert.equal((await call(h, "GET", "/api/policies/..%2F..%2Fetc")).statusCode, 400);
  const broken = await call(h, "POST", "/api/policies/load", { name: "broken" }, auth);
  assert.equal(broken.statusCode, 422);
  assert.match(broken.json().error, /SHA-256 mismatch/);
  const before = h.node.engine;
  const loaded = await call(h, "POST", "/api/policies/load", { name: "h1-copy" }, auth);
  assert.equal(loaded.statusCode, 200, loaded.body);
  assert.notEqual(h.node.engine, before, "the new engine drives the node");
  await call(h, "POST", "/api/mode", { mode: "damping" }, auth);
  const wrongMode = await call(h, "POST", "/api/policies/load", { name: "h1-untrained" }, auth);
  assert.equal(wrongMode.statusCode, 409);
  assert.match(wrongMode.json().error, /passive or hold, not in damping/);
  await call(h, "POST", "/api/mode", { mode: "passive" }, auth);
});

test("metrics expose stage latencies, mode, watchdog trips and state age", async () => {
  await h.ticks(3);
  const text = (await call(h, "GET", "/metrics")).body;
  for (const name of ['h1rt_tick_stage_seconds_bucket{le="0.005",stage="inference"}', "h1rt_ticks_total", 'h1rt_mode{mode="passive"} 1', "h1rt_link_state_age_seconds", "h1rt_deadline_misses_total", "h1rt_candidate_score_spread"]) {
    assert.ok(text.includes(name), name);
  }
});

test("OpenAPI lists every route with its schemas", async () => {
  const doc = (await call(h, "GET", "/openapi.json")).json();
  for (const path of ["/api/status", "/api/estop", "/api/estop/reset", "/api/mode", "/api/params", "/api/policies", "/api/policies/{name}", "/api/policies/load", "/api/recording/start", "/api/recording/stop"]) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(doc.paths["/api/mode"].post.requestBody);
  assert.equal((await call(h, "GET", "/docs/")).statusCode, 200);
});

test("fuzz: malformed and out-of-range input to every route is a 4xx with a message, never a 5xx", async () => {
  const doc = (await call(h, "GET", "/openapi.json")).json();
  const rng = new SeededNormal(77);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng.uniform() * xs.length)];
  const values: unknown[] = [null, true, -1, 0, 1e308, -1e308, 3.5, "", "x".repeat(5000), "policy", [], [1, 2, 3], {}, { a: { b: [null] } }, NaN];
  const keys = ["mode", "reason", "K", "name", "soft_start_s", "velocity_command", "soft_limit_factor", "__proto__", "constructor"];
  const bodies = (): unknown[] => [
    undefined,
    "not json",
    "{",
    "[]",
    "null",
    JSON.stringify(Object.fromEntries(Array.from({ length: 1 + Math.floor(rng.uniform() * 4) }, () => [pick(keys), pick(values)]))),
  ];
  let requests = 0;
  for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
    for (const method of [...Object.keys(methods), "delete", "put"]) {
      for (let round = 0; round < 8; round++) {
        for (const body of bodies()) {
          for (const headers of [{}, auth, { authorization: "Bearer " }, { authorization: "x".repeat(3000) }]) {
            const url = path.replace("{name}", pick(["h1-copy", "%00", "..", "a".repeat(150), "ok%2Fno"])) + pick(["", "?x=1", "?K=-5&mode=policy"]);
            const r = await h.api.app.inject({
              method: method.toUpperCase() as "GET",
              url,
              payload: typeof body === "string" ? body : undefined,
              headers: { ...headers, ...(body !== undefined ? { "content-type": pick(["application/json", "text/plain", "application/x-www-form-urlencoded"]) } : {}) },
            });
            requests++;
            assert.ok(r.statusCode < 500, `${method} ${url} ${String(body).slice(0, 80)} -> ${r.statusCode} ${r.body.slice(0, 200)}`);
            if (r.statusCode >= 400 && r.statusCode !== 404) assert.ok(r.json().error?.length > 0, `${method} ${url}: an error message`);
          }
        }
      }
    }
  }
  assert.ok(requests > 1000, `${requests} requests`);
  // The node is whatever mode the fuzzing left it in, but always a defined one and still ticking.
  await h.ticks(2);
  assert.ok(["passive", "damping", "standup", "hold", "policy", "estop"].includes(h.node.supervisor.mode));
});

test("rate limits and body limits answer 429 and 413; e-stop is never rate-limited", async () => {
  const small = await harness(["api.rate_limit_per_minute=5", "api.body_limit_bytes=512"]);
  try {
    const codes = [];
    for (let i = 0; i < 8; i++) codes.push((await call(small, "GET", "/api/status")).statusCode);
    assert.deepEqual(codes.slice(5), [429, 429, 429]);
    for (let i = 0; i < 10; i++) assert.equal((await call(small, "POST", "/api/estop", { reason: `${i}` })).statusCode, 200);
    assert.equal((await call(small, "POST", "/api/estop/reset", {}, auth)).statusCode, 429, "rate-limited");
    small.node.supervisor.reset("test");
    const big = await small.api.app.inject({ method: "POST", url: "/api/estop", payload: JSON.stringify({ reason: "x".repeat(2000) }), headers: { "content-type": "application/json" } });
    assert.equal(big.statusCode, 413);
    assert.equal(small.node.supervisor.mode, "estop", "an oversized e-stop request still stops the robot");
    small.node.supervisor.reset("test");
    assert.equal((await small.api.app.inject({ method: "POST", url: "/api/estop", payload: "{broken", headers: { "content-type": "application/json" } })).statusCode, 400);
    assert.equal(small.node.supervisor.mode, "estop", "so does a malformed one");
  } finally {
    await small.close();
  }
});

function connect(url: string): Promise<{ ws: WebSocket; messages: any[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace("http", "ws") + "/ws");
    const messages: any[] = [];
    ws.on("message", (d) => messages.push(JSON.parse(String(d))));
    ws.on("open", () => resolve({ ws, messages }));
    ws.on("error", reject);
  });
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

test("WebSocket telemetry: channels, decimation, safety events, errors, client limit", async () => {
  const ws = await harness(["api.max_ws_clients=2"]);
  try {
    const a = await connect(ws.url);
    await until(() => a.messages.length > 0);
    assert.equal(a.messages[0].op, "hello");
    assert.equal(a.messages[0].joints.length, 19);
    a.ws.send(JSON.stringify({ op: "subscribe", channel: "robot_state", every: 3 }));
    a.ws.send(JSON.stringify({ op: "subscribe", channel: "safety" }));
    a.ws.send(JSON.stringify({ op: "subscribe", channel: "tea" }));
    a.ws.send("{not json");
    a.ws.send(JSON.stringify({ op: "subscribe", channel: "policy", every: 0 }));
    await until(() => a.messages.filter((m) => m.op === "error").length === 3);
    await ws.ticks(12);
    await call(ws, "POST", "/api/estop", { reason: "ws test" });
    await ws.ticks(1);
    await until(() => a.messages.some((m) => m.channel === "safety"));
    const states = a.messages.filter((m) => m.channel === "robot_state" && m.data);
    assert.ok(states.length >= 4 && states.every((m) => m.tick % 3 === 0), `${states.map((m) => m.tick)}`);
    assert.equal(states[0].data.q.length, 19);
    const safety = a.messages.find((m) => m.channel === "safety" && m.data);
    assert.equal(safety.data.to, "estop");
    assert.match(safety.data.reason, /e-stop from the API/);
    const errors = a.messages.filter((m) => m.op === "error").map((m) => m.error);
    assert.ok(errors.some((e) => /unknown channel "tea"/.test(e)) && errors.some((e) => /not JSON/.test(e)) && errors.some((e) => /every must be/.test(e)));
    const b = await connect(ws.url);
    await assert.rejects(connect(ws.url), /503/);
    b.ws.close();
    a.ws.close();
  } finally {
    await ws.close();
  }
});
