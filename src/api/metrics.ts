// Prometheus metrics of the control loop, fed from the telemetry ring (never from the tick itself).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Mode, SafetyEvent } from "../safety/supervisor.ts";
import { STAGES, type TelemetryRing } from "../telemetry/ring.ts";

const MODES: Mode[] = ["passive", "damping", "standup", "hold", "policy", "estop"];

/** A watchdog's reason, as a label: a small fixed set, so the metric's cardinality stays bounded. */
export function watchdogKind(reason: string): string {
  const kinds: [RegExp, string][] = [
    [/ms old/, "stale_state"],
    [/no robot state/, "no_state"],
    [/tick counter frozen/, "frozen_tick"],
    [/non-finite/, "non_finite"],
    [/budget/, "inference_overrun"],
    [/tilted/, "tilt"],
    [/IMU quaternion/, "imu_invalid"],
  ];
  return kinds.find(([re]) => re.test(reason))?.[1] ?? "other";
}

export function createMetrics(ring: TelemetryRing): Registry {
  const registry = new Registry();
  const stage = new Histogram({
    name: "h1rt_tick_stage_seconds",
    help: "Duration of each stage of the control tick, and of the whole tick (stage=total)",
    labelNames: ["stage"],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.05],
    registers: [registry],
  });
  const ticks = new Counter({ name: "h1rt_ticks_total", help: "Control ticks run", registers: [registry] });
  const misses = new Counter({ name: "h1rt_deadline_misses_total", help: "Ticks that ended after the next deadline", registers: [registry] });
  const trips = new Counter({ name: "h1rt_watchdog_trips_total", help: "Watchdog transitions to damping, by kind", labelNames: ["kind"], registers: [registry] });
  const mode = new Gauge({ name: "h1rt_mode", help: "1 for the supervisor's current mode", labelNames: ["mode"], registers: [registry] });
  const spread = new Gauge({ name: "h1rt_candidate_score_spread", help: "Best minus worst candidate score of the last policy tick", registers: [registry] });
  const level = new Gauge({ name: "h1rt_policy_degradation_rank", help: "Deadline-aware sampling: the last policy tick's degradation level (0 none; -1 no time budget)", registers: [registry] });
  const age = new Gauge({ name: "h1rt_link_state_age_seconds", help: "Age of the robot state used by the last tick", registers: [registry] });
  const stages = [...STAGES, "total"] as const;
  for (const m of MODES) mode.set({ mode: m }, m === "passive" ? 1 : 0);

  ring.onTick((r, from, to) => {
    for (let s = from; s < to; s++) {
      const rec = r.get(s);
      if (!rec) continue;
      ticks.inc();
      if (rec.deadlineMissed) misses.inc();
      for (const st of stages) stage.observe({ stage: st }, rec.timings[st] / 1000);
      if (Number.isFinite(rec.stateAgeMs)) age.set(rec.stateAgeMs / 1000);
      if (rec.policyRan) level.set(rec.levelRank);
      if (rec.policyRan && rec.K > 0) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = 0; k < rec.K; k++) {
          lo = Math.min(lo, rec.scores[k]);
          hi = Math.max(hi, rec.scores[k]);
        }
        spread.set(hi - lo);
      }
    }
  });
  ring.onEvent((e: SafetyEvent) => {
    for (const m of MODES) mode.set({ mode: m }, m === e.to ? 1 : 0);
    if (e.source === "watchdog") trips.inc({ kind: watchdogKind(e.reason) });
  });
  return registry;
}
