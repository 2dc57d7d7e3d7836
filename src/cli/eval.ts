// npm run eval -- --policy models/NAME --task h1-stand --episodes N --seed S --json FILE [--realtime]
//                 [--config FILE] [--set PATH=VALUE ...]
// Plays the policy through the real control loop (observation builder, engine, action mapping, safety
// supervisor) on seeded simulated episodes. Lockstep by default (faster than real time, reproducible);
// --realtime runs the simulator on its own clock so that policy latency matters. Episodes start as the
// trainer's do: the robot reset into the default pose, the policy driving from the first control step
// (soft start 0 unless --set safety.soft_start_s=... says otherwise).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { engineOptions, loadConfig } from "../config/config.ts";
import { evaluateThroughLoop } from "../control/evaluate.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { consoleLogger, type Logger } from "../util/log.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      policy: { type: "string" },
      task: { type: "string", default: "h1-stand" },
      episodes: { type: "string", default: "20" },
      seed: { type: "string", default: "0" },
      json: { type: "string" },
      realtime: { type: "boolean", default: false },
      config: { type: "string" },
      set: { type: "string", multiple: true, default: [] },
      verbose: { type: "boolean", default: false },
    },
  });
  if (!values.policy) {
    console.error("usage: npm run eval -- --policy models/NAME --task h1-stand --episodes N --seed S [--json FILE] [--realtime]");
    return 2;
  }
  const config = loadConfig({ file: values.config, overrides: ["safety.soft_start_s=0", `policy.path=${values.policy}`, ...values.set!] });
  // Safety transitions go into the report; the log shows them only with --verbose.
  const logger: Logger = values.verbose ? consoleLogger : { log: (level, msg, f) => level === "error" && consoleLogger.log(level, msg, f) };
  const engine = await PolicyEngine.load(config.policy.path, { ...engineOptions(config, values.realtime), logger: consoleLogger });
  const report = await evaluateThroughLoop({
    config,
    engine,
    task: values.task!,
    episodes: Number(values.episodes),
    seed: Number(values.seed),
    realtime: values.realtime,
    logger,
    onEpisode: (r, done, total) =>
      console.error(`[${done}/${total}] seed ${r.seed}: return ${r.return.toFixed(1)}, ${r.length} steps${r.terminated ? ", terminated" : ""}`),
  });
  await engine.close();
  const { policy, task, mode, episodes, mean_return, success_bar, success_rate, tick_latency } = report;
  console.log(JSON.stringify({ policy, task, mode, episodes: episodes.length, mean_return, std_return: report.std_return, success_bar, success_rate, tick_latency }));
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
  return 0;
}

process.exitCode = await main();
