// The control node's configuration: config/default.yaml, then an optional file over it, then single-field
// overrides (--set PATH=VALUE, values in YAML syntax); validated against schemas/config.schema.json with ajv.
// Errors name the file (or the override), the path in it and what was expected.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import { parse as parseYaml } from "yaml";
import { H1_JOINT_NAMES } from "../robot/h1.ts";

export interface JointSafetyOverride {
  kp_max?: number;
  kd_max?: number;
  damping_kd?: number;
}

export interface WatchdogConfig {
  max_state_age_ms: number;
  max_frozen_ticks: number;
  max_nonfinite_ticks: number;
  inference_budget_ms: number;
  max_overrun_ticks: number;
  max_tilt_rad: number;
}

export interface SafetyConfig {
  soft_limit_factor: number;
  velocity_limit_factor: number;
  kp_max: number;
  kd_max: number;
  damping_kd: number;
  joints: Record<string, JointSafetyOverride>;
  standup_s: number;
  soft_start_s: number;
  watchdog: WatchdogConfig;
}

export type StartupStep = "damping" | "standup" | "hold" | "policy";

/** The ROS 2 link (link.kind ros2): docs/ros2.md. */
export interface Ros2LinkConfig {
  node_name: string;
  namespace: string;
  topics: { lowcmd: string; lowstate: string; joint_states: string; diagnostics: string };
  lowcmd_check_s: number;
  lowcmd_repeat_hz: number;
  repeat_max_age_ms: number;
  qos_depth: number;
  diagnostics_hz: number;
}

/** The direct Unitree DDS link (link.kind dds, no ROS 2): docs/dds.md. */
export interface DdsLinkConfig {
  domain_id: number;
  /** Network interface (e.g. enp3s0, lo); null: CYCLONEDDS_URI or CycloneDDS's own choice. */
  interface: string | null;
  topics: { lowcmd: string; lowstate: string; wirelesscontroller: string };
  lowcmd_hz: number;
  repeat_max_age_ms: number;
  lowcmd_check_s: number;
  qos_depth: number;
}

export type RemoteActionName = "estop" | "passive" | "damping" | "standup" | "hold" | "policy";

/** The Unitree wireless remote's key combinations ("L2+B") -> actions; null unbinds a default. */
export interface RemoteConfig {
  enabled: boolean;
  bindings: Record<string, RemoteActionName | null>;
}

export interface Config {
  policy: { path: string; sampler: "auto" | "native" | "fused" | "stepwise"; K: number | null; budget_ms: number | null; min_ddim_steps: number | null; seed: number; threads: number | "auto"; provider: "cpu" | "cuda" | "auto" };
  control: { rate_hz: number; velocity_command: [number, number, number] | null; startup: StartupStep[] };
  link: { kind: "sim" | "ros2" | "dds"; sim: { task: string; seed: number; realtime: boolean }; ros2: Ros2LinkConfig; dds: DdsLinkConfig };
  remote: RemoteConfig;
  safety: SafetyConfig;
  api: {
    host: string;
    port: number;
    token: string | null;
    rate_limit_per_minute: number;
    body_limit_bytes: number;
    max_ws_clients: number;
    models_dir: string;
    foxglove_port: number;
    recordings_dir: string;
  };
  telemetry: { ring_size: number };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL("../../config/default.yaml", import.meta.url));
const schemaFile = fileURLToPath(new URL("../../schemas/config.schema.json", import.meta.url));
const validate = new Ajv({ allErrors: true, strict: false }).compile<Config>(JSON.parse(readFileSync(schemaFile, "utf8")));

function readYaml(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError(`${file}: no such file`);
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`${file}: expected a mapping at the top level`);
  return data as Record<string, unknown>;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge of mappings; anything else in `over` replaces what is in `base`. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMapping(v) && isMapping(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** "safety.kp_max=300" -> {safety: {kp_max: 300}}; the value is read as YAML (numbers, booleans, null, lists). */
export function parseOverride(text: string): Record<string, unknown> {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new ConfigError(`--set ${text}: expected PATH=VALUE, e.g. safety.kp_max=300`);
  const path = text.slice(0, eq).split(".");
  if (path.some((p) => !/^[A-Za-z0-9_]+$/.test(p))) throw new ConfigError(`--set ${text}: a path is dot-separated names`);
  let value: unknown;
  try {
    value = parseYaml(text.slice(eq + 1));
  } catch (err) {
    throw new ConfigError(`--set ${text}: the value is not valid YAML: ${(err as Error).message}`);
  }
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

function describe(e: ErrorObject, data: unknown): string {
  const got = e.instancePath.split("/").slice(1).reduce<unknown>((v, k) => (isMapping(v) || Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), data);
  const allowed = e.params && "allowedValues" in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : "";
  const extra = e.params && "additionalProperty" in e.params ? ` ("${e.params.additionalProperty}")` : "";
  return `${e.instancePath || "/"} ${e.message}${allowed}${extra}${got !== undefined && !isMapping(got) ? ` (got ${JSON.stringify(got)})` : ""}`;
}

export interface ConfigSources {
  /** A YAML file merged over config/default.yaml. */
  file?: string;
  /** PATH=VALUE overrides, applied last. */
  overrides?: string[];
  /** Environment (default process.env): H1RT_API_TOKEN supplies api.token when the files leave it null. */
  env?: NodeJS.ProcessEnv;
}

export function loadConfig({ file, overrides = [], env = process.env }: ConfigSources = {}): Config {
  let data = readYaml(DEFAULT_CONFIG_FILE);
  const where = file ?? DEFAULT_CONFIG_FILE;
  if (file) data = merge(data, readYaml(file));
  for (const o of overrides) data = merge(data, parseOverride(o));
  const api = data.api as Record<string, unknown> | undefined;
  if (api && api.token == null && env.H1RT_API_TOKEN) api.token = env.H1RT_API_TOKEN;
  if (!validate(data)) {
    const problems = (validate.errors ?? []).slice(0, 6).map((e) => describe(e, data));
    const source = overrides.length ? `${where} (with --set ${overrides.join(", ")})` : where;
    throw new ConfigError(`${source}: invalid configuration: ${problems.join("; ")}`);
  }
  const config = data as unknown as Config;
  for (const name of Object.keys(config.safety.joints)) {
    if (!H1_JOINT_NAMES.includes(name)) throw new ConfigError(`${where}: /safety/joints/${name}: unknown joint; expected one of ${H1_JOINT_NAMES.join(", ")}`);
  }
  if (config.remote.enabled && !Object.values(config.remote.bindings).includes("estop")) {
    throw new ConfigError(`${where}: /remote/bindings: an enabled remote needs an e-stop binding (e.g. "L2+B": estop)`);
  }
  return config;
}

/** The policy engine settings of a configuration (policy.*), for PolicyEngine.load. The time budget applies
 * in real time only: in lockstep the simulator waits for the policy, and results must not depend on timing. */
export function engineOptions(config: Config, realtime = true) {
  const p = config.policy;
  return { path: p.sampler, K: p.K ?? undefined, budgetMs: realtime ? p.budget_ms : null, minDdimSteps: p.min_ddim_steps, seed: p.seed, session: { threads: p.threads, provider: p.provider } };
}
