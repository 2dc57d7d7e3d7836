// MuJoCo (WebAssembly, mujoco-js) loaded once per process, and the project's scenes from sim/ put into
// its in-memory file system so that <include> between them resolves.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import loadMujoco, { type MainModule, type MjModel } from "mujoco-js";

export type Mujoco = MainModule;
export type SceneName = "h1_flat" | "h1_balance_simple";

export const SIM_DIR = fileURLToPath(new URL("../../sim/", import.meta.url));

let loading: Promise<Mujoco> | null = null;

/** The MuJoCo module, instantiated on first use. */
export function mujoco(): Promise<Mujoco> {
  loading ??= loadMujoco() as Promise<Mujoco>;
  return loading;
}

interface MemFs {
  mkdir(path: string): void;
  writeFile(path: string, data: Uint8Array | string): void;
  analyzePath(path: string): { exists: boolean };
}

/** Compile a scene of `simDir` (default: the repository's sim/); errors name the file. */
export async function loadScene(scene: SceneName, simDir: string = SIM_DIR): Promise<{ mj: Mujoco; model: MjModel }> {
  const mj = await mujoco();
  const fs = (mj as unknown as { FS: MemFs }).FS;
  // One MEMFS directory per source directory, so scenes from different places never mix.
  const target = `/sim-${Buffer.from(simDir).toString("hex").slice(-24)}`;
  if (!fs.analyzePath(target).exists) fs.mkdir(target);
  for (const file of readdirSync(simDir)) {
    if (file.endsWith(".xml")) fs.writeFile(`${target}/${file}`, readFileSync(join(simDir, file)));
  }
  try {
    return { mj, model: mj.MjModel.loadFromXML(`${target}/${scene}.xml`) };
  } catch (err) {
    throw new Error(`${join(simDir, `${scene}.xml`)}: MuJoCo cannot load it: ${(err as Error).message}`);
  }
}

/** mj_name2id for an object type by name; throws when the model lacks it (the sim contract is by name). */
export function idOf(mj: Mujoco, model: MjModel, type: "body" | "joint" | "site" | "sensor" | "geom" | "actuator" | "key", name: string): number {
  const objects = mj.mjtObj as unknown as Record<string, { value: number }>;
  const id = mj.mj_name2id(model, objects[`mjOBJ_${type.toUpperCase()}`].value, name);
  if (id < 0) throw new Error(`the model has no ${type} named "${name}"`);
  return id;
}
