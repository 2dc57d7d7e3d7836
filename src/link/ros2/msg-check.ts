// Does a message object match its definition exactly? Every field present with the right type, integers
// within their type's range, fixed arrays at their length, floats finite (and float32 values exactly
// representable, so what the wire carries is what was built), no extra fields. The CDR writer is lenient
// (it writes zeros for what is missing); this is the strict check in front of it.
import type { MessageDefinition } from "./definitions.ts";

const INTEGER_RANGES: Record<string, [number, number]> = {
  byte: [0, 255],
  char: [0, 255],
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

function primitiveProblem(type: string, v: unknown, path: string): string | null {
  if (type === "string") return typeof v === "string" ? null : `${path}: expected a string, got ${JSON.stringify(v)}`;
  if (type === "bool") return typeof v === "boolean" ? null : `${path}: expected a boolean, got ${JSON.stringify(v)}`;
  if (type === "time" || type === "duration") {
    if (typeof v !== "object" || v === null) return `${path}: expected {sec, nanosec}`;
    const t = v as Record<string, unknown>;
    const keys = Object.keys(t).sort().join(",");
    if (keys !== "nanosec,sec") return `${path}: expected exactly {sec, nanosec}, got {${keys}}`;
    return primitiveProblem("int32", t.sec, `${path}.sec`) ?? (typeof t.nanosec === "number" && t.nanosec < 1e9 ? primitiveProblem("uint32", t.nanosec, `${path}.nanosec`) : `${path}.nanosec: expected 0 <= nanosec < 1e9`);
  }
  if (type === "int64" || type === "uint64") {
    if (typeof v === "bigint" || Number.isSafeInteger(v)) return null;
    return `${path}: expected an integer, got ${String(v)}`;
  }
  if (typeof v !== "number") return `${path}: expected a number (${type}), got ${JSON.stringify(v)}`;
  if (type === "float32" || type === "float64") {
    if (!Number.isFinite(v)) return `${path}: ${v} is not finite`;
    if (type === "float32" && Math.fround(v) !== v) return `${path}: ${v} is not exactly a float32 (round it with Math.fround)`;
    return null;
  }
  const range = INTEGER_RANGES[type];
  if (!range) return `${path}: unsupported type ${type}`;
  return Number.isInteger(v) && v >= range[0] && v <= range[1] ? null : `${path}: ${v} is not a ${type}`;
}

/** Everything wrong with `message` against the root of `defs` (empty when it matches). */
export function messageProblems(defs: readonly MessageDefinition[], message: unknown, path = "msg"): string[] {
  const byName = new Map(defs.map((d) => [d.name ?? "", d.definitions]));
  const problems: string[] = [];
  const check = (fields: MessageDefinition["definitions"], value: unknown, at: string) => {
    if (typeof value !== "object" || value === null || isArrayLike(value)) {
      problems.push(`${at}: expected a message object`);
      return;
    }
    const obj = value as Record<string, unknown>;
    const data = fields.filter((f) => !f.isConstant);
    for (const key of Object.keys(obj)) if (!data.some((f) => f.name === key)) problems.push(`${at}.${key}: not in the definition`);
    for (const f of data) {
      const p = `${at}.${f.name}`;
      if (!(f.name in obj)) {
        problems.push(`${p}: missing`);
        continue;
      }
      const one = (v: unknown, q: string) => {
        if (f.isComplex) {
          const nested = byName.get(f.type);
          if (!nested) problems.push(`${q}: no definition for ${f.type}`);
          else check(nested, v, q);
        } else {
          const problem = primitiveProblem(f.type, v, q);
          if (problem) problems.push(problem);
        }
      };
      const v = obj[f.name];
      if (!f.isArray) {
        one(v, p);
        continue;
      }
      if (!isArrayLike(v)) {
        problems.push(`${p}: expected an array`);
        continue;
      }
      if (f.arrayLength !== undefined && v.length !== f.arrayLength) problems.push(`${p}: ${v.length} entries, the definition has ${f.arrayLength}`);
      if (f.arrayUpperBound !== undefined && v.length > f.arrayUpperBound) problems.push(`${p}: ${v.length} entries, at most ${f.arrayUpperBound}`);
      for (let i = 0; i < v.length; i++) one(v[i], `${p}[${i}]`);
    }
  };
  check(defs[0].definitions, message, path);
  return problems;
}
