// Builds the CycloneDDS addon (native/dds/build/Release/h1_dds.node) when CycloneDDS is installed:
// idlc turns idl/unitree_go.idl into C (gen/), node-gyp compiles it with src/dds_addon.c against the
// installed Node's headers (no download) and libddsc. Skipped while its stamp matches its inputs. Without
// CycloneDDS it says what to install and exits 0 (the DDS link is optional), or 1 with --require.
//
//   node native/dds/build.mjs [--require] [--quiet] [--force]
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const say = (m) => args.has("--quiet") || console.log(`dds addon: ${m}`);
export const INSTALL_HINT =
  "install CycloneDDS 0.10 (the H1's version) with its IDL compiler: sudo apt-get install cyclonedds-dev cyclonedds-tools " +
  "(Debian 12, Ubuntu 24.04), or build it and set CYCLONEDDS_HOME to its install prefix; then npm run build:dds (docs/dds.md)";

function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

const home = process.env.CYCLONEDDS_HOME;
const idlc = home && existsSync(join(home, "bin/idlc")) ? join(home, "bin/idlc") : which("idlc");
const header = [home && join(home, "include/dds/dds.h"), "/usr/include/dds/dds.h", "/usr/local/include/dds/dds.h"].find((p) => p && existsSync(p));
if (!idlc || !header) {
  const missing = [!header && "dds/dds.h (cyclonedds-dev)", !idlc && "idlc (cyclonedds-tools)"].filter(Boolean).join(" and ");
  const msg = `CycloneDDS not found (${missing}): the DDS link (link.kind: dds) is unavailable; the rest works without it. To use it, ${INSTALL_HINT}`;
  console.error(`dds addon: ${msg}`);
  process.exit(args.has("--require") ? 1 : 0);
}

// Node's own headers, from the installed Node (Debian's nodejs-dev / the official tarball carry them).
const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, "include/node/node_api.h")) ? prefix : null);
const gyp = [
  process.env.npm_config_node_gyp,
  join(prefix, "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
  join(dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
  "/usr/share/nodejs/node-gyp/bin/node-gyp.js",
].find((p) => p && existsSync(p));
if (!gyp) {
  console.error("dds addon: node-gyp not found (it comes with npm); install npm, or npm install -g node-gyp");
  process.exit(args.has("--require") ? 1 : 0);
}

const out = join(here, "build/Release/h1_dds.node");
const ddsVersion = readFileSync(join(dirname(header), "version.h"), "utf8").match(/DDS_VERSION "([^"]+)"/)?.[1] ?? "?";
const stamp = createHash("sha256")
  .update([process.version, ddsVersion, header, idlc, ...["binding.gyp", "src/dds_addon.c", "idl/unitree_go.idl"].map((f) => readFileSync(join(here, f), "utf8"))].join("\0"))
  .digest("hex")
  .slice(0, 16);
const stampFile = join(here, "build/.stamp");
if (!args.has("--force") && existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) process.exit(0);

say(`building against CycloneDDS ${ddsVersion} (${dirname(dirname(header))})`);
mkdirSync(join(here, "gen"), { recursive: true });
execFileSync(idlc, ["-o", join(here, "gen"), join(here, "idl/unitree_go.idl")], { stdio: "inherit" });
// One job: the machines this runs on are shared.
const r = spawnSync(process.execPath, [gyp, "rebuild", "-j", "1", ...(nodedir ? [`--nodedir=${nodedir}`] : []), ...(args.has("--quiet") ? ["--silent"] : [])], {
  cwd: here,
  stdio: "inherit",
});
if (r.status !== 0) {
  console.error(`dds addon: the build failed (node-gyp exit ${r.status}); the DDS link is unavailable. Needs a C compiler, make, python3 and ${INSTALL_HINT}`);
  process.exit(args.has("--require") ? 1 : 0);
}
writeFileSync(stampFile, stamp);
say(`built ${out}`);
