// What the DDS tests share: whether CycloneDDS and its addon are here (skip with the reason where they cannot
// be, but fail in CI, whose set-up installs them), and the loopback configuration for a peer process.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { ddsAvailable, interfaceConfigXml } from "../../src/link/dds/binding.ts";

export const VENV_PYTHON = ".venv/bin/python";

function unavailable(why: string): string | false {
  if (process.env.CI) throw new Error(`${why} (CI installs CycloneDDS with scripts/setup.sh: this must not happen there)`);
  return `${why}; scripts/setup.sh installs it (docs/dds.md)`;
}

/** false when the addon loads, else why the test is skipped. */
export function skipWithoutDds(): string | false {
  const a = ddsAvailable();
  return a.ok ? false : unavailable(a.why);
}

/** false when the Python peer can run (the addon and .venv's cyclonedds), else why not. */
export function skipWithoutPythonPeer(): string | false {
  const dds = skipWithoutDds();
  if (dds) return dds;
  if (!existsSync(VENV_PYTHON)) return unavailable("no .venv (the Python peer needs it)");
  const r = spawnSync(VENV_PYTHON, ["-c", "import cyclonedds"], { encoding: "utf8" });
  return r.status === 0 ? false : unavailable(`the Python cyclonedds package is not in .venv (${r.stderr.trim().split("\n").at(-1)})`);
}

/** Environment for a peer process on loopback (the same CycloneDDS settings the link uses for "lo"). */
export function loopbackEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CYCLONEDDS_URI: interfaceConfigXml("lo") };
}
