// ONNX Runtime sessions for a package's graphs, each checked against the manifest: input and output
// names in order, element types, and every fixed dimension.
import * as ort from "onnxruntime-node";
import type { Logger } from "../util/log.ts";
import { PolicyPackageError, type FileEntry, type Role } from "./manifest.ts";
import type { PolicyPackage } from "./package.ts";
import { chooseProvider, createSession, intraOpThreads, type SessionSettings } from "./providers.ts";

export interface PolicySessions {
  sessions: Partial<Record<Role, ort.InferenceSession>>;
  provider: "cpu" | "cuda";
  reason: string;
}

export async function openSessions(pkg: PolicyPackage, roles: Role[], settings: SessionSettings, logger: Logger): Promise<PolicySessions> {
  const choice = chooseProvider(settings.provider);
  const sessions: PolicySessions["sessions"] = {};
  let provider: "cpu" | "cuda" = choice.provider;
  let reason = choice.reason;
  for (const role of roles) {
    const path = pkg.paths[role];
    const entry = pkg.manifest.files[role];
    if (!path || !entry) throw new PolicyPackageError(`${pkg.dir}/policy.json: /files/${role}: this package has no ${role} graph`);
    let created;
    try {
      created = await createSession(path, settings, choice, logger);
    } catch (err) {
      throw new PolicyPackageError(`${path}: ONNX Runtime cannot load it: ${(err as Error).message}`);
    }
    if (created.provider !== choice.provider) {
      provider = created.provider;
      reason = `CUDA failed to start, using CPU (${choice.reason})`;
    }
    checkSessionAgainstManifest(created.session, entry, path, role);
    sessions[role] = created.session;
  }
  logger.log("info", `policy ${pkg.manifest.name}: ONNX Runtime on ${provider.toUpperCase()} (${reason})`, {
    threads: intraOpThreads(settings.threads),
    graphOptimization: settings.graphOptimization,
  });
  return { sessions, provider, reason };
}

export function checkSessionAgainstManifest(session: ort.InferenceSession, entry: FileEntry, path: string, role: Role): void {
  const sides = [
    ["inputs", entry.inputs, session.inputMetadata],
    ["outputs", entry.outputs, session.outputMetadata],
  ] as const;
  for (const [side, declared, actual] of sides) {
    const names = actual.map((m) => m.name);
    const want = declared.map((t) => t.name);
    if (names.join(",") !== want.join(",")) {
      throw new PolicyPackageError(`${path}: graph ${side} are [${names.join(", ")}], /files/${role}/${side} declares [${want.join(", ")}]`);
    }
    declared.forEach((tensor, i) => {
      const meta = actual[i];
      if (!meta.isTensor) throw new PolicyPackageError(`${path}: ${side} ${tensor.name} is not a tensor`);
      if (meta.type !== tensor.dtype) {
        throw new PolicyPackageError(`${path}: ${side} ${tensor.name} has type ${meta.type}, /files/${role}/${side}/${i}/dtype says ${tensor.dtype}`);
      }
      if (meta.shape.length !== tensor.shape.length) {
        throw new PolicyPackageError(`${path}: ${side} ${tensor.name} has rank ${meta.shape.length}, the manifest says ${tensor.shape.length}`);
      }
      tensor.shape.forEach((d, k) => {
        const g = meta.shape[k];
        // A fixed dimension in the manifest must be that number in the graph; the graph may leave it symbolic
        // (shape inference does not always reach outputs), which the probe run then checks on real outputs.
        if (typeof d === "number" && typeof g === "number" && g !== d && g >= 0) {
          throw new PolicyPackageError(`${path}: ${side} ${tensor.name} dimension ${k} is ${g} in the graph, ${d} in /files/${role}/${side}/${i}/shape`);
        }
        if (typeof d === "string" && typeof g === "number" && g > 0) {
          throw new PolicyPackageError(`${path}: ${side} ${tensor.name} dimension ${k} is fixed at ${g} in the graph, the manifest says it is dynamic ("${d}")`);
        }
      });
    });
  }
}
