// npm run inspect -- models/NAME [--probe]: a policy package's summary as JSON.
// Without --probe: the manifest validated and every file's SHA-256 checked. With --probe: also the graphs
// loaded in ONNX Runtime, checked against the manifest and run once (the same checks as the control node).
import { parseArgs } from "node:util";
import { PolicyEngine } from "../policy/engine.ts";
import { readPolicyPackage } from "../policy/package.ts";
import { packageSummary } from "../policy/summary.ts";
import { silentLogger } from "../util/log.ts";

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { probe: { type: "boolean", default: false } } });
  if (positionals.length !== 1) {
    console.error("usage: npm run inspect -- models/NAME [--probe]");
    return 2;
  }
  try {
    const pkg = readPolicyPackage(positionals[0]);
    const summary = packageSummary(pkg);
    if (values.probe) {
      const started = performance.now();
      const engine = await PolicyEngine.load(positionals[0], { logger: silentLogger });
      summary.probe = { ok: true, provider: engine.provider, path: engine.path, load_ms: Math.round(performance.now() - started) };
      await engine.close();
    }
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main();
