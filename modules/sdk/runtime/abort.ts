// AssemblyScript's default abort imports env.abort, which the host forbids.
// asconfig.json redirects abort here ("use": abort=.../sfAbort): report the
// reason through log_message, then trap so the host sees E_MODULE_TRAP.
import { log_message } from "../imports";

export function sfAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: " + (message === null ? "(no message)" : message);
  if (fileName !== null) text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  const bytes = String.UTF8.encode(text);
  log_message(3, <i32>changetype<usize>(bytes), bytes.byteLength);
  unreachable();
}
