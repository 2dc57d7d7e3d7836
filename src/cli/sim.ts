// npm run sim -- --link dds: the simulated H1 as its own process, speaking the robot's DDS topics
// (src/link/dds/sim-server.ts), so a control node drives it exactly as it drives the robot or
// unitree_mujoco. Prints a JSON status line every --status-s seconds. Standard input takes commands, one a
// line: `press KEYS [MS]` (the remote: e.g. `press start`, `press L2+B`), `status`, `quit`.
//
//   npm run sim -- --link dds [--domain 1] [--interface lo] [--band on|off] [--duration S] [--status-s 1]
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { DdsSimServer } from "../link/dds/sim-server.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      link: { type: "string" },
      domain: { type: "string", default: "1" },
      interface: { type: "string", default: "lo" },
      band: { type: "string", default: "on" },
      duration: { type: "string", default: "0" },
      "status-s": { type: "string", default: "1" },
    },
  });
  if (values.link !== "dds") {
    throw new Error(
      `--link ${values.link ?? "(missing)"}: the simulator process speaks DDS only: npm run sim -- --link dds ` +
        "(the in-process simulation needs no separate process: npm start)",
    );
  }
  const domainId = Number(values.domain);
  const duration = Number(values.duration);
  const statusS = Number(values["status-s"]);
  if (!Number.isInteger(domainId) || domainId < 0 || domainId > 232) throw new Error(`--domain must be an integer in 0..232, got ${values.domain}`);
  if (!(duration >= 0) || !(statusS > 0)) throw new Error("--duration must be >= 0 and --status-s > 0 seconds");
  if (values.band !== "on" && values.band !== "off") throw new Error(`--band on|off, got ${values.band}`);
  const iface = values.interface === "" || values.interface === "default" ? null : values.interface!;

  const server = await DdsSimServer.create({ domainId, interface: iface, band: values.band === "on" });
  console.error(
    `sim: the simulated H1 on DDS domain ${domainId} (${iface ?? "CYCLONEDDS_URI / default interface"}): reads rt/lowcmd, writes rt/lowstate at 500 Hz` +
      `${values.band === "on" ? ", hanging in an elastic band" : ""}; motors off until the first LowCmd. stdin: press KEYS [MS] | status | quit`,
  );
  server.start();
  const print = () => console.log(JSON.stringify(server.status()));
  const statusTimer = setInterval(print, statusS * 1000);

  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const [cmd, arg, ms] = line.trim().split(/\s+/);
    try {
      if (cmd === "press" && arg) server.press(arg, ms ? Number(ms) : undefined);
      else if (cmd === "status") print();
      else if (cmd === "quit") finish();
      else if (cmd) console.error(`sim: unknown command "${line.trim()}" (press KEYS [MS] | status | quit)`);
    } catch (err) {
      console.error(`sim: ${(err as Error).message}`);
    }
  });
  process.once("SIGINT", finish);
  process.once("SIGTERM", finish);
  if (duration > 0) setTimeout(finish, duration * 1000);
  await done;
  clearInterval(statusTimer);
  lines.close();
  print();
  server.close();
  return 0;
}

process.exitCode = await main();
// stdin stays open when a parent holds it: leave once everything is closed.
process.exit();
