// Text that came from outside (a module, a file name, a flag value) on its way
// to a terminal or a log line: control characters could drive the terminal or
// forge a line of our own output, so they are written as escapes.

/**
 * C0 (but tab), DEL, C1, the Unicode line/paragraph separators and the
 * bidirectional controls (which reorder what the terminal shows, so a
 * signature could make a row read as another), written as the hostcalls
 * write log lines.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 0x0a ? '\\n' : code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}
