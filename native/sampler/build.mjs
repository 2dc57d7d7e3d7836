// Builds the native sampler addon (native/sampler/build/h1_sampler.node): src/addon.c and src/kernel.c,
// compiled by the system C compiler against the installed Node's headers (no download, no node-gyp).
// The binary is portable: the AVX-512 kernel is chosen at run time, with a plain C one elsewhere. Skipped
// while its stamp matches its inputs. Without a compiler it says so and exits 0 (the runtime then uses
// ONNX Runtime's fused graph), or 1 with --require.
//
//   node native/sampler/build.mjs [--require] [--quiet] [--force]
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const say = (m) => args.has("--quiet") || console.log(`native sampler: ${m}`);
const give_up = (m) => {
  console.error(`native sampler: ${m}; the runtime will use ONNX Runtime's fused graph instead (npm run build:native to retry)`);
  process.exit(args.has("--require") ? 1 : 0);
};

const sources = ["src/addon.c", "src/kernel.c", "src/kernel.h"];
const include = join(dirname(dirname(process.execPath)), "include/node");
if (!existsSync(join(include, "node_api.h"))) give_up(`Node's headers are not at ${include}`);
const cc = process.env.CC || "cc";
const out = join(here, "build/h1_sampler.node");
const flags = ["-O3", "-std=c11", "-D_ISOC11_SOURCE", "-D_POSIX_C_SOURCE=200809L", "-pthread", "-fPIC", "-shared", "-Wall", "-Wextra", "-Wno-unused-parameter"];
const stamp = createHash("sha256")
  .update([process.version, cc, ...flags, ...sources.map((f) => readFileSync(join(here, f), "utf8"))].join("\0"))
  .digest("hex")
  .slice(0, 16);
const stampFile = join(here, "build/.stamp");
if (!args.has("--force") && existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) process.exit(0);

mkdirSync(join(here, "build"), { recursive: true });
const tmp = `${out}.tmp`;
const r = spawnSync(cc, [...flags, `-I${include}`, join(here, "src/addon.c"), join(here, "src/kernel.c"), "-o", tmp, "-lm"], { stdio: "inherit" });
if (r.error || r.status !== 0) give_up(r.error ? `no C compiler (${cc}: ${r.error.message})` : `the build failed (${cc} exit ${r.status})`);
renameSync(tmp, out); // a half-written addon is never loaded
writeFileSync(stampFile, stamp);
say(`built ${out}`);
