// Text that came from outside (a module, a file name, a flag value) on its way
// to a terminal or a log line: control characters could drive the terminal or
// forge a line of our own output, so they are written as escapes.

/** C0 (but tab), DEL, C1 and the Unicode line/paragraph separators, written as the hostcalls write log lines. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 0x0a ? '\\n' : code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}
