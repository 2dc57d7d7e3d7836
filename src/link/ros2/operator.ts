// What an operator can do to the node over ROS 2, and what the remote's bindings do: both go through the
// NodeControl interface the HTTP API uses. E-stop is always granted; a mode is a request the supervisor
// may refuse (the answer says why). Leaving e-stop is a service only, never a remote key.
import type { NodeControl } from "../../api/control.ts";
import type { Mode } from "../../safety/supervisor.ts";
import type { Logger } from "../../util/log.ts";
import type { RemoteAction } from "../unitree/remote.ts";
import { triggerResponse, type TriggerResponse } from "./messages.ts";

export async function runAction(control: NodeControl, action: RemoteAction, reason: string): Promise<TriggerResponse> {
  try {
    if (action === "estop") {
      const mode = await control.estop(reason);
      return triggerResponse(true, `e-stop: now ${mode}`);
    }
    const refused = await control.request(action as Mode, reason);
    return refused === null ? triggerResponse(true, `${action} granted`) : triggerResponse(false, refused);
  } catch (err) {
    return triggerResponse(false, (err as Error).message);
  }
}

/** Run the actions of newly pressed remote combinations through `control`. Before a node is attached there
 * is nothing to run them on: an e-stop combination is returned, to apply as soon as one is. */
export function applyRemote(pressed: Iterable<{ combo: string; action: RemoteAction }>, control: NodeControl | null, logger: Logger): string | null {
  let pendingEstop: string | null = null;
  for (const { combo, action } of pressed) {
    logger.log(action === "estop" ? "warn" : "info", `remote: ${combo} -> ${action}`);
    if (!control) {
      if (action === "estop") pendingEstop = combo;
      continue;
    }
    void runAction(control, action, `remote ${combo}`).then((r) => {
      if (!r.success) logger.log("warn", `remote ${combo} (${action}) refused: ${r.message}`);
    });
  }
  return pendingEstop;
}

export interface OperatorService {
  /** Relative to the node (the adapter prefixes "~/"). */
  name: string;
  description: string;
  call(control: NodeControl): Promise<TriggerResponse>;
}

const MODES: readonly Exclude<RemoteAction, "estop">[] = ["passive", "damping", "standup", "hold", "policy"];

/** std_srvs/srv/Trigger services: ~/estop, ~/reset, ~/mode/<mode>. */
export const OPERATOR_SERVICES: readonly OperatorService[] = [
  { name: "estop", description: "e-stop (always granted; latched until reset)", call: (c) => runAction(c, "estop", "ROS 2 service estop") },
  {
    name: "reset",
    description: "leave e-stop, to passive",
    call: async (c) => {
      const refused = await c.reset("ROS 2 service reset").catch((err: Error) => err.message);
      return refused === null ? triggerResponse(true, "e-stop reset: now passive") : triggerResponse(false, refused);
    },
  },
  ...MODES.map((mode) => ({
    name: `mode/${mode}`,
    description: `request ${mode} (the supervisor may refuse)`,
    call: (c: NodeControl) => runAction(c, mode, `ROS 2 service mode/${mode}`),
  })),
];
