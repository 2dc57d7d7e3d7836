// A policy package summarised for people and tools (npm run inspect, the API's policy listing).
import type { PolicyPackage } from "./package.ts";

export function packageSummary(pkg: PolicyPackage): Record<string, unknown> {
  const m = pkg.manifest;
  return {
    dir: pkg.dir,
    name: m.name,
    format_version: m.format_version,
    algorithm: m.algorithm,
    robot: m.robot,
    task: m.task,
    control_rate_hz: m.control_rate_hz,
    observation: {
      size: m.observation.size,
      terms: m.observation.terms,
      normalized: m.observation.normalizer !== null,
      sim_only_terms: m.observation.terms.filter((t) => t.sim_only).map((t) => t.name),
    },
    action: { size: m.action.size, target: m.action.target, joints: m.action.joints },
    diffusion: m.diffusion ?? null,
    critic: m.critic,
    selection: m.selection,
    files: Object.fromEntries(
      Object.entries(m.files).map(([role, f]) => [
        role,
        { path: f.path, bytes: pkg.bytes[role as keyof typeof pkg.bytes], sha256: f.sha256, sha256_verified: true, inputs: f.inputs, outputs: f.outputs },
      ]),
    ),
    native_sampler: m.native_sampler
      ? { path: m.native_sampler.path, sha256: m.native_sampler.sha256, sha256_verified: true, output: m.native_sampler.output, tensors: m.native_sampler.tensors.length }
      : null,
    provenance: m.provenance,
  };
}
