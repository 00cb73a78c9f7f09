// Small checked readers for module configs: each failure logs one ERROR line
// naming the field, the bad value's kind and what is accepted, which the host
// quotes in E_MODULE_CONFIG.
import { JsonValue } from "./json";
import { Verdict, LogLevel } from "./abi";
import { log } from "./emit";

export function refuse(why: string): bool {
  log(LogLevel.ERROR, "config: " + why);
  return false;
}

/** False (after logging) when obj has a key outside `known`; `where` names a nested object ("rules[2]"). */
export function onlyKnownKeys(obj: JsonValue, known: Array<string>, where: string = ""): bool {
  for (let i = 0; i < obj.keys.length; i++) {
    if (!known.includes(obj.keys[i])) {
      return refuse((where.length > 0 ? where + ": " : "") + "unknown field \"" + obj.keys[i] + "\" (known: " + known.join(", ") + ")");
    }
  }
  return true;
}

/** Integer field in min..max; returns dflt when absent and i64.MIN_VALUE (after logging) when invalid. */
export function intField(obj: JsonValue, key: string, min: i64, max: i64, dflt: i64, unit: string = ""): i64 {
  const v = obj.get(key);
  if (v === null) return dflt;
  if (!v.isInteger() || v.num < <f64>min || v.num > <f64>max) {
    refuse(key + " must be an integer " + min.toString() + ".." + max.toString() + (unit.length > 0 ? " (" + unit + ")" : ""));
    return i64.MIN_VALUE;
  }
  return <i64>v.num;
}

/** Number field in min..max; NaN (after logging) when invalid. */
export function numField(obj: JsonValue, key: string, min: f64, max: f64, dflt: f64, unit: string = ""): f64 {
  const v = obj.get(key);
  if (v === null) return dflt;
  if (!v.isNumber() || v.num < min || v.num > max) {
    refuse(key + " must be a number " + min.toString() + ".." + max.toString() + (unit.length > 0 ? " (" + unit + ")" : ""));
    return NaN;
  }
  return v.num;
}

/** 1 true, 0 false, -1 invalid (logged). */
export function boolField(obj: JsonValue, key: string, dflt: bool): i32 {
  const v = obj.get(key);
  if (v === null) return dflt ? 1 : 0;
  if (!v.isBool()) { refuse(key + " must be true or false"); return -1; }
  return v.bool ? 1 : 0;
}

/** Array of strings, or null (after logging) when the field is not one; an empty array when absent. */
export function stringList(obj: JsonValue, key: string): Array<string> | null {
  const out = new Array<string>();
  const v = obj.get(key);
  if (v === null) return out;
  if (!v.isArray()) { refuse(key + " must be an array of strings"); return null; }
  for (let i = 0; i < v.length; i++) {
    const item = v.at(i);
    if (!item.isString()) { refuse(key + "[" + i.toString() + "] must be a string"); return null; }
    out.push(item.str);
  }
  return out;
}

/** An action name as its verdict (alert, drop, block_flow, block_src); -1 for any other. */
export function actionVerdict(name: string): i32 {
  if (name == "alert") return Verdict.CONTINUE;
  if (name == "drop") return Verdict.DROP;
  if (name == "block_flow") return Verdict.BLOCK_FLOW;
  if (name == "block_src") return Verdict.BLOCK_SRC;
  return -1;
}

/** An action field as a verdict (see actionVerdict); -1 (after logging) when it names none. */
export function actionField(obj: JsonValue, key: string, dflt: Verdict): i32 {
  const v = obj.get(key);
  if (v === null) return dflt;
  const a = v.isString() ? actionVerdict(v.str) : -1;
  if (a >= 0) return a;
  refuse(key + " must be one of \"alert\", \"drop\", \"block_flow\", \"block_src\"");
  return -1;
}

export function actionName(v: Verdict): string {
  if (v == Verdict.DROP) return "drop";
  if (v == Verdict.BLOCK_FLOW) return "block_flow";
  if (v == Verdict.BLOCK_SRC) return "block_src";
  return "alert";
}

/** Port list into a 65536-entry table; false (after logging) when invalid. Absent leaves the table as is. */
export function portTable(obj: JsonValue, key: string, table: StaticArray<u8>): bool {
  const v = obj.get(key);
  if (v === null) return true;
  if (!v.isArray()) return refuse(key + " must be an array of port numbers");
  for (let i = 0; i < 65536; i++) unchecked(table[i] = 0);
  for (let i = 0; i < v.length; i++) {
    const p = v.at(i);
    if (!p.isInteger() || p.num < 1 || p.num > 65535) return refuse(key + "[" + i.toString() + "] must be a port number 1..65535");
    table[<i32>p.num] = 1;
  }
  return true;
}
