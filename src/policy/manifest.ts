// The policy package manifest (policy.json), format version 1: types, schema validation (ajv) and the
// cross-field checks a JSON Schema cannot express. docs/policy-package.md is the prose version.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";

export const FORMAT_VERSION = 1;

export type Role = "sampler" | "denoiser" | "critic" | "actor";
export type DType = "float32" | "int64";

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

export interface FileEntry {
  path: string;
  sha256: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface ObservationTerm {
  name: string;
  size: number;
  sim_only: boolean;
  params?: Record<string, unknown>;
}

export interface Normalizer {
  mean: number[];
  std: number[];
  clip: number;
}

export type ScheduleName = "vp" | "cosine" | "linear" | "mean_reverting";
export type Aggregation = "min" | "mean" | "lcb";
export type SelectionRule = "argmax" | "softmax";

export interface DiffusionSpec {
  schedule: ScheduleName;
  schedule_params: Record<string, number>;
  steps: number;
  prediction: "epsilon";
  clip_x0: number | null;
  variance: "posterior" | "beta";
  noise_ratio: number;
}

/** The denoiser's and critic's weights for the runtime's native CPU sampler (src/policy/native.ts): one float32 file. */
export interface NativeSamplerSpec {
  path: string;
  sha256: string;
  activation: "mish";
  hidden: number;
  hidden_layers: number;
  /** What the denoiser's out layer predicts: the noise, or the clean action (the ONNX graphs always output noise). */
  output: "epsilon" | "x0";
  critic_hidden: number;
  critic_hidden_layers: number;
  tensors: { name: string; shape: number[] }[];
}

export interface SelectionSpec {
  K: number;
  aggregation: Aggregation;
  beta: number;
  rule: SelectionRule;
  temperature: number;
}

export interface PolicyManifest {
  format_version: number;
  name: string;
  algorithm: string;
  robot: string;
  task: string;
  control_rate_hz: number;
  observation: { size: number; terms: ObservationTerm[]; normalizer: Normalizer | null };
  action: {
    size: number;
    joints: string[];
    target: "position" | "torque" | "raw";
    offset: number[];
    scale: number[];
  };
  pd_gains: { kp: number[]; kd: number[] };
  diffusion?: DiffusionSpec;
  critic: { members: number };
  selection: SelectionSpec;
  files: Partial<Record<Role, FileEntry>>;
  native_sampler?: NativeSamplerSpec;
  provenance: Record<string, unknown> & { trainer: string; trainer_version: string; seed: number; steps: number };
}

/** A problem with a policy package; the message names the file and the field. */
export class PolicyPackageError extends Error {
  override name = "PolicyPackageError";
}

const schemaPath = fileURLToPath(new URL("../../schemas/policy-package.schema.json", import.meta.url));
const validateSchema = new Ajv({ allErrors: true, strict: false }).compile<PolicyManifest>(
  JSON.parse(readFileSync(schemaPath, "utf8")),
);

/** Validate a parsed policy.json; `where` names the file in errors. Returns the typed manifest. */
export function validateManifest(data: unknown, where: string): PolicyManifest {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new PolicyPackageError(`${where}: expected a JSON object`);
  }
  const version = (data as Record<string, unknown>).format_version;
  if (version !== FORMAT_VERSION) {
    throw new PolicyPackageError(
      `${where}: /format_version: unknown format version ${JSON.stringify(version)} (this runtime reads ${FORMAT_VERSION})`,
    );
  }
  if (!validateSchema(data)) {
    const details = (validateSchema.errors ?? [])
      .slice(0, 8)
      .map((e: ErrorObject) => `${e.instancePath || "/"} ${e.message}${e.params && "allowedValues" in e.params ? `: ${JSON.stringify(e.params.allowedValues)}` : ""}`);
    throw new PolicyPackageError(`${where}: invalid manifest: ${details.join("; ")}`);
  }
  const manifest = data as PolicyManifest;
  checkConsistency(manifest, where);
  return manifest;
}

function expectLength(where: string, field: string, actual: number, expected: number, of: string): void {
  if (actual !== expected) {
    throw new PolicyPackageError(`${where}: ${field} has ${actual} entries, expected ${expected} (${of})`);
  }
}

/** The tensors of a native_sampler file, in order, weights [in, out]: the denoiser's first layer split in three
 * (action, observation, per-step bias), its hidden layers and output layer; then each critic member's first
 * layer split in three (observation, action, bias), its hidden layers and output layer. */
export function nativeSamplerTensors(m: PolicyManifest): { name: string; shape: number[] }[] {
  const n = m.native_sampler!;
  const [A, O, H, T, Hc] = [m.action.size, m.observation.size, n.hidden, m.diffusion?.steps ?? 0, n.critic_hidden];
  const hidden = (prefix: string, count: number, width: number) =>
    Array.from({ length: count }, (_, l) => [
      { name: `${prefix}hidden.${l}.weight`, shape: [width, width] },
      { name: `${prefix}hidden.${l}.bias`, shape: [width] },
    ]).flat();
  const critic = Array.from({ length: m.critic.members }, (_, k) => {
    const c = `critic.${k}.`;
    return [
      { name: `${c}first.observation`, shape: [O, Hc] },
      { name: `${c}first.action`, shape: [A, Hc] },
      { name: `${c}first.bias`, shape: [Hc] },
      ...hidden(c, n.critic_hidden_layers, Hc),
      { name: `${c}out.weight`, shape: [Hc, 1] },
      { name: `${c}out.bias`, shape: [1] },
    ];
  }).flat();
  return [
    { name: "first.action", shape: [A, H] },
    { name: "first.observation", shape: [O, H] },
    { name: "first.step_bias", shape: [T, H] },
    ...hidden("", n.hidden_layers, H),
    { name: "out.weight", shape: [H, A] },
    { name: "out.bias", shape: [A] },
    ...critic,
  ];
}

function checkConsistency(m: PolicyManifest, where: string): void {
  const termSum = m.observation.terms.reduce((s, t) => s + t.size, 0);
  expectLength(where, "/observation/terms (sum of sizes)", termSum, m.observation.size, "/observation/size");
  const termNames = new Set<string>();
  for (const t of m.observation.terms) {
    if (termNames.has(t.name)) throw new PolicyPackageError(`${where}: /observation/terms: duplicate term "${t.name}"`);
    termNames.add(t.name);
  }
  const n = m.observation.normalizer;
  if (n) {
    expectLength(where, "/observation/normalizer/mean", n.mean.length, m.observation.size, "/observation/size");
    expectLength(where, "/observation/normalizer/std", n.std.length, m.observation.size, "/observation/size");
  }
  const A = m.action.size;
  for (const field of ["joints", "offset", "scale"] as const) {
    expectLength(where, `/action/${field}`, m.action[field].length, A, "/action/size");
  }
  expectLength(where, "/pd_gains/kp", m.pd_gains.kp.length, A, "/action/size");
  expectLength(where, "/pd_gains/kd", m.pd_gains.kd.length, A, "/action/size");
  if (m.selection.aggregation === "lcb" && m.critic.members < 2) {
    throw new PolicyPackageError(`${where}: /selection/aggregation "lcb" needs /critic/members >= 2, got ${m.critic.members}`);
  }
  if (m.files.sampler && m.diffusion) {
    const noise = m.files.sampler.inputs[1];
    if (noise && noise.shape[0] !== m.diffusion.steps + 1) {
      throw new PolicyPackageError(
        `${where}: /files/sampler/inputs/1/shape/0 is ${noise.shape[0]}, expected /diffusion/steps + 1 = ${m.diffusion.steps + 1}`,
      );
    }
  }
  if (m.native_sampler) {
    const want = nativeSamplerTensors(m);
    const got = m.native_sampler.tensors;
    want.forEach((t, i) => {
      const g = got[i];
      if (!g || g.name !== t.name || g.shape.join(",") !== t.shape.join(",")) {
        throw new PolicyPackageError(
          `${where}: /native_sampler/tensors/${i} is ${g ? `${g.name} [${g.shape.join(", ")}]` : "missing"}, expected ${t.name} [${t.shape.join(", ")}]`,
        );
      }
    });
    if (got.length !== want.length) throw new PolicyPackageError(`${where}: /native_sampler/tensors has ${got.length} entries, expected ${want.length}`);
  }
}
