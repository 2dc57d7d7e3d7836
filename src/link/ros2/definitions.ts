// The .msg definitions in msg/ as parsed message definitions (@foxglove/rosmsg, ROS 2 flavour): a type and
// everything it refers to, root first, as MessageWriter / MessageReader and the conformance check want.
// Type names here are "package/Name"; rclnodejs wants "package/msg/Name" (rosTypeName).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "@foxglove/rosmsg";

export type MessageDefinition = ReturnType<typeof parse>[number];

export const MSG_DIR = fileURLToPath(new URL("./msg/", import.meta.url));

const PRIMITIVES = new Set([
  "bool", "byte", "char", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
  "float32", "float64", "string", "wstring", "time", "duration",
]);

/** "unitree_go/LowCmd" -> "unitree_go/msg/LowCmd". */
export function rosTypeName(name: string): string {
  const [pkg, type] = name.split("/");
  return `${pkg}/msg/${type}`;
}

function fileText(name: string, ext: "msg" | "srv"): string {
  return readFileSync(`${MSG_DIR}${name}.${ext}`, "utf8");
}

/** The complex types a definition's fields name, qualified ("Header" is std_msgs', bare names are the package's). */
function dependencies(name: string, text: string): string[] {
  const pkg = name.split("/")[0];
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line || line === "---") continue;
    const type = line.split(/\s+/)[0].replace(/\[.*\]$/, "").replace(/<=\d+$/, "");
    if (PRIMITIVES.has(type) || /^(w?string)<=\d+$/.test(type)) continue;
    out.push(type.includes("/") ? type : type === "Header" ? "std_msgs/Header" : `${pkg}/${type}`);
  }
  return out;
}

/** The full text of a definition (ROS's concatenated form: root, then each dependency after a MSG: line). */
function fullText(rootText: string, rootName: string): string {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (name: string, text: string) => {
    for (const dep of dependencies(name, text)) {
      if (seen.has(dep) || dep === "builtin_interfaces/Time") continue; // ROS 2's Time is the primitive "time"
      seen.add(dep);
      order.push(dep);
      visit(dep, fileText(dep, "msg"));
    }
  };
  visit(rootName, rootText);
  const sep = "=".repeat(80);
  return [rootText, ...order.map((d) => `${sep}\nMSG: ${d}\n${fileText(d, "msg")}`)].join("\n");
}

function parseRoot(text: string, name: string): MessageDefinition[] {
  const defs = parse(fullText(text, name), { ros2: true });
  defs[0] = { ...defs[0], name };
  return defs;
}

const cache = new Map<string, MessageDefinition[]>();

/** Parsed definitions of a message type, root first. */
export function messageDefinitions(name: string): MessageDefinition[] {
  let defs = cache.get(name);
  if (!defs) cache.set(name, (defs = parseRoot(fileText(name, "msg"), name)));
  return defs;
}

/** Parsed definitions of a service's request and response ("std_srvs/Trigger"). */
export function serviceDefinitions(name: string): { request: MessageDefinition[]; response: MessageDefinition[] } {
  const [request, response] = fileText(name, "srv").split(/^---\s*$/m);
  return { request: parseRoot(request, `${name}_Request`), response: parseRoot(response, `${name}_Response`) };
}
