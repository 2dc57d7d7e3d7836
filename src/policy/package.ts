// Reading a policy package from disk: the manifest (validated), each ONNX file present and matching its
// SHA-256, and each role's declared tensors matching what that role means. No ONNX Runtime here.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PolicyPackageError, type FileEntry, type PolicyManifest, type Role, validateManifest } from "./manifest.ts";

export interface PolicyPackage {
  dir: string;
  manifest: PolicyManifest;
  /** Absolute path of each role's ONNX file (present and hash-checked). */
  paths: Partial<Record<Role, string>>;
  bytes: Partial<Record<Role, number>>;
  /** The native sampler's weights file (present, hash-checked, the declared tensors' size), if the package has one. */
  nativeWeights: string | null;
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function readPolicyPackage(dir: string): PolicyPackage {
  const root = resolve(dir);
  const manifestPath = join(root, "policy.json");
  if (!existsSync(manifestPath)) throw new PolicyPackageError(`${manifestPath}: missing file (a policy package needs policy.json)`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (err) {
    throw new PolicyPackageError(`${manifestPath}: not valid JSON: ${(err as Error).message}`);
  }
  const manifest = validateManifest(data, manifestPath);
  checkSignatures(manifest, manifestPath);
  const paths: PolicyPackage["paths"] = {};
  const bytes: PolicyPackage["bytes"] = {};
  for (const [role, entry] of Object.entries(manifest.files) as [Role, FileEntry][]) {
    const path = join(root, entry.path);
    if (!existsSync(path)) throw new PolicyPackageError(`${path}: missing file (/files/${role}/path in policy.json)`);
    const actual = sha256File(path);
    if (actual !== entry.sha256) {
      throw new PolicyPackageError(`${path}: SHA-256 mismatch: file has ${actual}, /files/${role}/sha256 says ${entry.sha256}`);
    }
    paths[role] = path;
    bytes[role] = statSync(path).size;
  }
  return { dir: root, manifest, paths, bytes, nativeWeights: checkNativeWeights(root, manifest) };
}

function checkNativeWeights(root: string, m: PolicyManifest): string | null {
  const n = m.native_sampler;
  if (!n) return null;
  const path = join(root, n.path);
  if (!existsSync(path)) throw new PolicyPackageError(`${path}: missing file (/native_sampler/path in policy.json)`);
  const actual = sha256File(path);
  if (actual !== n.sha256) throw new PolicyPackageError(`${path}: SHA-256 mismatch: file has ${actual}, /native_sampler/sha256 says ${n.sha256}`);
  const floats = n.tensors.reduce((s, t) => s + t.shape.reduce((p, d) => p * d, 1), 0);
  const size = statSync(path).size;
  if (size !== 4 * floats) throw new PolicyPackageError(`${path}: ${size} bytes, /native_sampler/tensors declare ${floats} float32 values (${4 * floats} bytes)`);
  return path;
}

/** A dimension: a number is fixed, null is dynamic (the manifest writes a name there). */
type Dim = number | null;
export interface RoleSignature {
  inputs: { dtype: "float32" | "int64"; shape: Dim[] }[];
  outputs: { dtype: "float32" | "int64"; shape: Dim[] }[];
}

/** What each role's tensors must look like, from the manifest's sizes. */
export function expectedSignature(m: PolicyManifest, role: Role): RoleSignature {
  const O = m.observation.size;
  const A = m.action.size;
  const M = m.critic.members;
  const f = (...shape: Dim[]) => ({ dtype: "float32" as const, shape });
  switch (role) {
    case "sampler":
      return {
        inputs: [f(null, O), f((m.diffusion?.steps ?? 0) + 1, null, A)],
        outputs: [f(null, A), f(null, null, A), f(null, null)],
      };
    case "denoiser":
      return { inputs: [f(null, A), { dtype: "int64", shape: [null] }, f(null, O)], outputs: [f(null, A)] };
    case "critic":
      return { inputs: [f(null, O), f(null, A)], outputs: [f(null, M)] };
    case "actor":
      return { inputs: [f(null, O), f(null, A)], outputs: [f(null, A)] };
  }
}

function checkSignatures(m: PolicyManifest, where: string): void {
  for (const [role, entry] of Object.entries(m.files) as [Role, FileEntry][]) {
    const want = expectedSignature(m, role);
    for (const side of ["inputs", "outputs"] as const) {
      const got = entry[side];
      if (got.length !== want[side].length) {
        throw new PolicyPackageError(`${where}: /files/${role}/${side} has ${got.length} tensors, a ${role} has ${want[side].length}`);
      }
      got.forEach((tensor, i) => {
        const field = `/files/${role}/${side}/${i}`;
        const w = want[side][i];
        if (tensor.dtype !== w.dtype) throw new PolicyPackageError(`${where}: ${field}/dtype is ${tensor.dtype}, expected ${w.dtype}`);
        if (tensor.shape.length !== w.shape.length) {
          throw new PolicyPackageError(`${where}: ${field}/shape has rank ${tensor.shape.length}, expected ${w.shape.length}`);
        }
        tensor.shape.forEach((d, k) => {
          const expected = w.shape[k];
          if (expected === null ? typeof d !== "string" : d !== expected) {
            throw new PolicyPackageError(
              `${where}: ${field}/shape/${k} is ${JSON.stringify(d)}, expected ${expected === null ? "a dynamic axis name" : expected}`,
            );
          }
        });
      });
    }
  }
}
