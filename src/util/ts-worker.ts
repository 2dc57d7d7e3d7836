// Start a worker thread running a TypeScript module. The project runs its TypeScript through tsx (no build
// step); a worker does not inherit the loader, so a small bootstrap registers tsx first.
import { Worker, type WorkerOptions } from "node:worker_threads";

export function tsWorker(module: URL, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })
    .catch((err) => { console.error(err); process.exit(1); });`;
  return new Worker(boot, { ...options, eval: true });
}
