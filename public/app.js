// The dashboard: live telemetry over the WebSocket (/ws), status polled from /api/status, and the
// controls. It only consumes telemetry: the server drops frames for a slow page rather than wait for it,
// so nothing here can hold up the control loop.
import { Plot } from "./plot.js";

const $ = (id) => document.getElementById(id);
const WINDOW_S = 10;
/** Decimation per channel (every n-th tick): 25 Hz at 50 Hz is smooth and keeps the page light. */
const SUBSCRIBE = { robot_state: 2, commands: 2, policy: 2, safety: 1 };
const STAGES = [
  ["state", "#7a8fa6"],
  ["observation", "#9c6ade"],
  ["inference", "#2f7ed8"],
  ["selection", "#e8a33d"],
  ["safety", "#d64545"],
  ["send", "#3aa57a"],
];
const TOKEN_KEY = "h1rt-api-token";

let joints = [];
let jointIndex = 0;
let rateHz = 50;
let mode = "";
/** Recent robot_state / commands samples by tick, to redraw another joint without waiting. */
const history = new Map();

const plots = {
  joint: new Plot($("plot-joint"), {
    legend: $("legend-joint"),
    unit: " rad",
    series: [
      { label: "q", color: "#2f7ed8" },
      { label: "target (kp > 0)", color: "#e8a33d" },
    ],
  }),
  latency: new Plot($("plot-latency"), {
    legend: $("legend-latency"),
    stacked: true,
    zero: true,
    unit: " ms",
    series: STAGES.map(([label, color]) => ({ label, color })),
  }),
  scores: new Plot($("plot-scores"), {
    legend: $("legend-scores"),
    zero: true,
    series: [
      { label: "spread (best − worst)", color: "#d64545" },
      { label: "chosen", color: "#3aa57a" },
    ],
  }),
};

// ---- drawing: at most once per animation frame, and only plots that got data ----
const dirty = new Set();
function markDirty(plot) {
  if (dirty.size === 0) requestAnimationFrame(drawDirty);
  dirty.add(plot);
}
function drawDirty() {
  for (const p of dirty) p.draw();
  dirty.clear();
}
window.addEventListener("resize", () => Object.values(plots).forEach(markDirty));

// ---- mode and safety events ----
function showMode(m, reason) {
  if (m && m !== mode) {
    mode = m;
    $("mode").textContent = m;
    $("mode").dataset.mode = m;
    document.body.dataset.mode = m;
  }
  if (reason !== undefined) $("mode-reason").textContent = reason;
}

/** Events by identity, merged from the status route (the last ten) and the safety channel (live). */
const events = new Map();
function addEvents(list) {
  for (const e of list) events.set(`${e.tick}|${e.from}|${e.to}|${e.reason}`, e);
  const sorted = [...events.values()].sort((a, b) => a.tick - b.tick).slice(-15);
  events.clear();
  for (const e of sorted) events.set(`${e.tick}|${e.from}|${e.to}|${e.reason}`, e);
  const ol = $("events");
  ol.replaceChildren(
    ...sorted.reverse().map((e) => {
      const li = document.createElement("li");
      li.dataset.to = e.to;
      const head = document.createElement("span");
      head.className = "ev-head";
      head.textContent = `tick ${e.tick}: ${e.from} → ${e.to}`;
      const why = document.createElement("span");
      why.className = "ev-reason";
      why.textContent = `${e.reason} (${e.source})`;
      li.append(head, why);
      return li;
    }),
  );
}

// ---- telemetry ----
function onHello(msg) {
  joints = msg.joints;
  const select = $("joint");
  const previous = select.value;
  select.replaceChildren(...joints.map((name, i) => new Option(name, String(i))));
  const knee = joints.findIndex((n) => n.includes("knee"));
  jointIndex = previous && joints[Number(previous)] ? Number(previous) : Math.max(0, knee);
  select.value = String(jointIndex);
  // A (re)connection may be to a restarted node: start the plots over.
  history.clear();
  Object.values(plots).forEach((p) => p.clear());
}

function onFrame(f) {
  const d = f.data;
  switch (f.channel) {
    case "robot_state": {
      rememberSample(f.tick, "q", d.q);
      plots.joint.add(f.tick, [d.q[jointIndex], undefined]);
      markDirty(plots.joint);
      showMode(d.mode);
      break;
    }
    case "commands": {
      const target = d.kp[jointIndex] > 0 ? d.q[jointIndex] : NaN; // no position target without stiffness
      rememberSample(f.tick, "cmd", { q: d.q, kp: d.kp });
      plots.joint.add(f.tick, [undefined, target]);
      markDirty(plots.joint);
      break;
    }
    case "policy": {
      plots.latency.add(f.tick, STAGES.map(([s]) => d.timings[s] ?? 0));
      markDirty(plots.latency);
      let spread = NaN;
      let chosen = NaN;
      if (d.ran && d.scores.length) {
        spread = Math.max(...d.scores) - Math.min(...d.scores);
        chosen = d.scores[d.chosen] ?? NaN;
      }
      plots.scores.add(f.tick, [spread, chosen]);
      markDirty(plots.scores);
      break;
    }
    case "safety":
      showMode(d.to, d.reason);
      addEvents([d]);
      break;
  }
}

function rememberSample(tick, key, value) {
  const s = history.get(tick) ?? {};
  s[key] = value;
  history.set(tick, s);
  if (history.size > 2 * WINDOW_S * rateHz) history.delete(history.keys().next().value);
}

$("joint").addEventListener("change", () => {
  jointIndex = Number($("joint").value);
  plots.joint.clear();
  for (const [tick, s] of history) {
    plots.joint.add(tick, [s.q ? s.q[jointIndex] : undefined, s.cmd ? (s.cmd.kp[jointIndex] > 0 ? s.cmd.q[jointIndex] : NaN) : undefined]);
  }
  markDirty(plots.joint);
});

let retryMs = 500;
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  setConn("connecting", "connecting…");
  ws.onopen = () => {
    retryMs = 500;
    setConn("open", "live");
    for (const [channel, every] of Object.entries(SUBSCRIBE)) ws.send(JSON.stringify({ op: "subscribe", channel, every }));
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.op === "hello") onHello(msg);
    else if (msg.op === "error") console.warn("telemetry:", msg.error);
    else if (msg.op === undefined && msg.data) onFrame(msg); // frames have no op; "subscribed" replies do
  };
  // Reconnect with a growing pause (the node may be restarting); onclose follows onerror.
  ws.onclose = () => {
    setConn("closed", `telemetry lost, retrying in ${(retryMs / 1000).toFixed(1)} s`);
    // Never keep showing a mode we can no longer vouch for.
    showMode("offline", "no telemetry from the node");
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
}
function setConn(state, text) {
  $("conn").dataset.state = state;
  $("conn").textContent = text;
}

// ---- status, polled once a second ----
const fmt = (v, digits = 2, unit = "") => (typeof v === "number" && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : "—");

async function pollStatus() {
  try {
    const res = await fetch("/api/status", { cache: "no-store" });
    if (!res.ok) throw new Error(`status ${res.status}`);
    showStatus(await res.json());
  } catch {
    $("st-ticks").textContent = "node unreachable";
  } finally {
    setTimeout(pollStatus, 1000);
  }
}

function showStatus(s) {
  showMode(s.mode, s.reason);
  const p = s.policy;
  $("st-policy").textContent = p ? `${p.name} (${p.algorithm}, ${p.path} on ${String(p.provider).toUpperCase()})` : "none loaded";
  $("st-kt").textContent = p ? `${p.K} / ${p.T ?? "—"}` : "—";
  $("scores-k").textContent = p ? `K = ${p.K} candidates` : "no policy";
  $("st-ticks").textContent = `${s.ticks.count} at ${s.ticks.rate_hz} Hz`;
  $("st-misses").textContent = `${s.ticks.deadline_misses} (overruns ${s.ticks.overruns})`;
  $("st-latency").textContent = `${fmt(s.ticks.latency_ms.p50_ms, 3)} / ${fmt(s.ticks.latency_ms.p99_ms, 3)} ms`;
  $("st-age").textContent = fmt(s.link.state_age_ms, 1, " ms");
  const e = s.episode;
  $("st-episode").textContent = e ? `seed ${e.seed}, step ${e.steps}, return ${fmt(e.return, 1)}` : "—";
  $("st-link").textContent = `${s.link.kind}${s.link.real ? "" : " (simulated)"}, ${s.telemetry_clients} telemetry client(s)`;
  if (s.ticks.rate_hz && s.ticks.rate_hz !== rateHz) {
    rateHz = s.ticks.rate_hz;
    Object.values(plots).forEach((pl) => pl.setWindow(WINDOW_S, rateHz));
  }
  addEvents(s.events ?? []);
  // Show the current parameters once, without overwriting what the user is typing.
  if ($("param-K").value === "" && s.params?.K != null) $("param-K").placeholder = String(s.params.K);
  if ($("param-soft-start").value === "" && s.params) $("param-soft-start").placeholder = String(s.params.soft_start_s);
}

// ---- controls ----
const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim()));
$("token-form").addEventListener("submit", (ev) => ev.preventDefault());
$("token-forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  tokenInput.value = "";
});

function say(text, ok) {
  const m = $("control-msg");
  m.textContent = text;
  m.dataset.ok = String(ok);
}

/** Call the API; the server's own error message is what the user sees on 4xx. */
async function call(method, path, body, { auth = true } = {}) {
  const headers = { "content-type": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  // Without a token the request still goes out, so the user sees the server's 401 and its reason.
  if (auth && token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: JSON.stringify(body ?? {}) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${res.status}: ${json.error ?? res.statusText}`);
  return json;
}

/** Run a control action and report it: the granted mode or detail, or the server's refusal. */
async function act(label, fn) {
  try {
    const r = await fn();
    say(`${label}: granted${r.detail ? `, ${r.detail}` : r.mode ? `, mode ${r.mode}` : ""}`, true);
    if (r.mode) showMode(r.mode, r.reason);
  } catch (err) {
    say(`${label}: ${err.message}`, false);
  }
}

$("estop").addEventListener("click", async () => {
  try {
    const r = await call("POST", "/api/estop", { reason: "dashboard button" }, { auth: false });
    showMode(r.mode);
    $("estop").dataset.failed = "false";
    say(`E-STOP: ${r.mode}`, true);
  } catch (err) {
    // The one failure that must be impossible to miss (no alert(): it would stall the telemetry).
    say(`E-STOP NOT CONFIRMED: ${err.message}`, false);
    $("estop").dataset.failed = "true";
  }
});

for (const b of document.querySelectorAll(".modes button[data-mode]")) {
  b.addEventListener("click", () => act(`mode ${b.dataset.mode}`, () => call("POST", "/api/mode", { mode: b.dataset.mode, reason: "dashboard" })));
}
$("estop-reset").addEventListener("click", () => act("reset e-stop", () => call("POST", "/api/estop/reset")));

$("params-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const body = {};
  if ($("param-K").value !== "") body.K = Number($("param-K").value);
  if ($("param-soft-start").value !== "") body.soft_start_s = Number($("param-soft-start").value);
  if (Object.keys(body).length === 0) return say("parameters: enter K or a soft start first", false);
  act("parameters", async () => {
    const r = await call("PATCH", "/api/params", body);
    $("param-K").value = "";
    $("param-soft-start").value = "";
    $("param-K").placeholder = String(r.K ?? "");
    $("param-soft-start").placeholder = String(r.soft_start_s);
    return { detail: `K ${r.K ?? "—"}, soft start ${r.soft_start_s} s` };
  });
});

connect();
pollStatus();
