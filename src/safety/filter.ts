// The filter every command passes in every mode, whatever produced it (policy, operator, a mode's own
// law, or garbage). In order, per joint:
//   1. non-finite fields replaced (target: the previous target, else the measured position, else the range
//      centre; velocity target, torque, gains: 0);
//   2. kp, kd clamped to [0, max]; velocity target to ±velocity limit; feed-forward torque to ±effort;
//   3. the target moved at most velocity limit × dt from the previous target, then clamped to the soft range
//      (so the range always wins: a previous target outside it is left for the range);
//   4. the torque the motor will compute, P + D + F = kp (q* - q) + kd (dq* - dq) + tau_ff, bounded by the
//      effort limit: the excess is taken first from P by moving q* towards q, then from F, then from D by
//      moving dq* towards dq; no term changes sign or grows, so q* stays between its clamped value and q.
// Step 4 needs a finite measured state; without one the gains are zeroed, which the motor obeys safely.
import type { MotorCommand, RobotState } from "../sim/h1-sim.ts";
import type { JointLimits } from "./limits.ts";

export interface FilterStats {
  /** Joints whose field was non-finite, clamped, rate-limited or torque-bounded in the last call. */
  nonFinite: number;
  clamped: number;
  rateLimited: number;
  torqueBounded: number;
}

export function emptyStats(): FilterStats {
  return { nonFinite: 0, clamped: 0, rateLimited: 0, torqueBounded: 0 };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Filter `cmd` in place. `previous`: the last target sent (null on the first command). */
export function filterCommand(
  cmd: MotorCommand,
  state: RobotState | null,
  previous: Float64Array | null,
  limits: JointLimits,
  dt: number,
  stats: FilterStats = emptyStats(),
): FilterStats {
  stats.nonFinite = stats.clamped = stats.rateLimited = stats.torqueBounded = 0;
  for (let j = 0; j < limits.n; j++) {
    const lo = limits.lower[j];
    const hi = limits.upper[j];
    const q = state ? state.q[j] : NaN;
    const dq = state ? state.dq[j] : NaN;
    const stateOk = Number.isFinite(q) && Number.isFinite(dq);

    let target = cmd.q[j];
    let vel = cmd.dq[j];
    let tau = cmd.tau[j];
    let kp = cmd.kp[j];
    let kd = cmd.kd[j];
    if (!Number.isFinite(target) || !Number.isFinite(vel) || !Number.isFinite(tau) || !Number.isFinite(kp) || !Number.isFinite(kd)) {
      stats.nonFinite++;
      if (!Number.isFinite(target)) target = previous && Number.isFinite(previous[j]) ? previous[j] : Number.isFinite(q) ? q : (lo + hi) / 2;
      if (!Number.isFinite(vel)) vel = 0;
      if (!Number.isFinite(tau)) tau = 0;
      if (!Number.isFinite(kp)) kp = 0;
      if (!Number.isFinite(kd)) kd = 0;
    }

    const kpC = clamp(kp, 0, limits.kpMax[j]);
    const kdC = clamp(kd, 0, limits.kdMax[j]);
    const velC = clamp(vel, -limits.velocity[j], limits.velocity[j]);
    const tauC = clamp(tau, -limits.effort[j], limits.effort[j]);
    let targetC = target;
    if (previous && Number.isFinite(previous[j])) {
      const step = limits.velocity[j] * dt;
      targetC = clamp(target, previous[j] - step, previous[j] + step);
      if (targetC !== target) stats.rateLimited++;
    }
    const inRange = clamp(targetC, lo, hi);
    if (kpC !== kp || kdC !== kd || velC !== vel || tauC !== tau || inRange !== targetC) stats.clamped++;
    targetC = inRange;
    kp = kpC;
    kd = kdC;
    vel = velC;
    tau = tauC;
    target = targetC;

    if (!stateOk) {
      // No trustworthy state to bound the torque with: no position or velocity feedback at all.
      kp = 0;
      kd = 0;
    } else {
      let p = kp * (target - q);
      let d = kd * (vel - dq);
      let f = tau;
      const total = p + d + f;
      const sign = total > 0 ? 1 : -1;
      let excess = sign * total - limits.effort[j];
      if (excess > 0) {
        stats.torqueBounded++;
        if (sign * p > 0) {
          const cut = Math.min(excess, sign * p);
          p -= sign * cut;
          excess -= cut;
          target = q + p / kp;
        }
        if (excess > 0 && sign * f > 0) {
          const cut = Math.min(excess, sign * f);
          f -= sign * cut;
          excess -= cut;
          tau = f;
        }
        if (excess > 0 && sign * d > 0) {
          d -= sign * Math.min(excess, sign * d);
          vel = dq + d / kd;
        }
      }
    }
    cmd.q[j] = target;
    cmd.dq[j] = vel;
    cmd.tau[j] = tau;
    cmd.kp[j] = kp;
    cmd.kd[j] = kd;
  }
  return stats;
}

/** The predicted motor torque of a command in a state (what the motor's driver computes). */
export function commandTorque(cmd: MotorCommand, state: RobotState, j: number): number {
  return cmd.kp[j] * (cmd.q[j] - state.q[j]) + cmd.kd[j] * (cmd.dq[j] - state.dq[j]) + cmd.tau[j];
}

/** Joints of `cmd` outside the limits, judged against `state` (an audit independent of how `cmd` was made):
 * a non-finite field, a gain out of bounds, a feed-forward torque or total motor torque over the effort
 * limit, a target outside the soft range other than towards the measured position. */
export function commandViolations(cmd: MotorCommand, state: RobotState, limits: JointLimits): number {
  let bad = 0;
  for (let j = 0; j < limits.n; j++) {
    const fields = [cmd.q[j], cmd.dq[j], cmd.tau[j], cmd.kp[j], cmd.kd[j]];
    const q = state.q[j];
    const slack = 1e-9 * (1 + limits.effort[j]);
    if (!fields.every(Number.isFinite)) bad++;
    else if (cmd.kp[j] < 0 || cmd.kp[j] > limits.kpMax[j] || cmd.kd[j] < 0 || cmd.kd[j] > limits.kdMax[j]) bad++;
    else if (Math.abs(cmd.tau[j]) > limits.effort[j] + slack) bad++;
    else if (Number.isFinite(q) && Math.abs(commandTorque(cmd, state, j)) > limits.effort[j] + slack) bad++;
    else if (cmd.q[j] < Math.min(limits.lower[j], Number.isFinite(q) ? q : Infinity) - 1e-9) bad++;
    else if (cmd.q[j] > Math.max(limits.upper[j], Number.isFinite(q) ? q : -Infinity) + 1e-9) bad++;
  }
  return bad;
}
