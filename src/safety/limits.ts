// Per-joint limits every command must respect, resolved once from the robot description and the safety
// configuration: soft position range, target rate, effort, gain bounds, damping gain.
import type { SafetyConfig } from "../config/config.ts";
import { H1_JOINTS, H1_NUM_JOINTS } from "../robot/h1.ts";

export interface JointLimits {
  n: number;
  /** Soft position range: the joint's range shrunk about its centre by soft_limit_factor. */
  lower: Float64Array;
  upper: Float64Array;
  /** Largest target velocity (rad/s): the joint's velocity limit times velocity_limit_factor. */
  velocity: Float64Array;
  effort: Float64Array;
  kpMax: Float64Array;
  kdMax: Float64Array;
  dampingKd: Float64Array;
}

export function jointLimits(safety: SafetyConfig): JointLimits {
  const n = H1_NUM_JOINTS;
  return updateJointLimits({
    n,
    lower: new Float64Array(n),
    upper: new Float64Array(n),
    velocity: new Float64Array(n),
    effort: new Float64Array(n),
    kpMax: new Float64Array(n),
    kdMax: new Float64Array(n),
    dampingKd: new Float64Array(n),
  }, safety);
}

/** Recompute `limits` in place from `safety` (the supervisor keeps a reference: runtime changes apply on
 * the next tick). */
export function updateJointLimits(limits: JointLimits, safety: SafetyConfig): JointLimits {
  H1_JOINTS.forEach((j, k) => {
    const mid = (j.lower + j.upper) / 2;
    const half = ((j.upper - j.lower) / 2) * safety.soft_limit_factor;
    const o = safety.joints[j.name] ?? {};
    limits.lower[k] = mid - half;
    limits.upper[k] = mid + half;
    limits.velocity[k] = j.velocity * safety.velocity_limit_factor;
    limits.effort[k] = j.effort;
    limits.kpMax[k] = o.kp_max ?? safety.kp_max;
    limits.kdMax[k] = o.kd_max ?? safety.kd_max;
    limits.dampingKd[k] = Math.min(o.damping_kd ?? safety.damping_kd, limits.kdMax[k]);
  });
  return limits;
}
