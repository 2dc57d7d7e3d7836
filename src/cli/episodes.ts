// npm run episodes -- --policy models/NAME --task h1-stand [--episodes 20] [--seed 0] [--parallel 16]
//                     [--K N] [--path native|fused|stepwise] [--json FILE]
// Plays a policy package on a simulated HumanoidBench task as fast as the CPU allows (no control loop,
// no safety supervisor: a direct evaluation of the policy) and prints the returns and the success rate.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PolicyEngine } from "../policy/engine.ts";
import type { SamplerPath } from "../policy/samplers.ts";
import { runEpisodes } from "../sim/episodes.ts";
import { consoleLogger } from "../util/log.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      policy: { type: "string" },
      task: { type: "string", default: "h1-stand" },
      episodes: { type: "string", default: "20" },
      seed: { type: "string", default: "0" },
      parallel: { type: "string", default: "16" },
      K: { type: "string" },
      path: { type: "string" },
      json: { type: "string" },
    },
  });
  if (!values.policy) {
    console.error("usage: npm run episodes -- --policy models/NAME --task h1-stand [--episodes N] [--seed S] [--json FILE]");
    return 2;
  }
  const engine = await PolicyEngine.load(values.policy, {
    K: values.K ? Number(values.K) : undefined,
    path: values.path as SamplerPath | undefined,
    seed: Number(values.seed),
    logger: consoleLogger,
  });
  const report = await runEpisodes(engine, {
    task: values.task!,
    episodes: Number(values.episodes),
    seed: Number(values.seed),
    parallel: Number(values.parallel),
    onEpisode: (r, done, total) =>
      console.error(`[${done}/${total}] seed ${r.seed}: return ${r.return.toFixed(1)}, ${r.length} steps${r.terminated ? ", terminated" : ""}`),
  });
  await engine.close();
  const { episodes, ...summary } = report;
  console.log(JSON.stringify({ ...summary, episodes: episodes.length }));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
  return 0;
}

process.exitCode = await main();
