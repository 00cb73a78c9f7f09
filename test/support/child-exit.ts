import type { ChildProcess } from 'node:child_process';

export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Resolves once the child has exited and what it wrote to stdout and stderr
 * has been read. Node may emit 'exit' before the last chunk of a pipe is
 * read, so output taken at 'exit' can lack its final lines (a report, the
 * last response); 'close' comes after both streams end. A grandchild that
 * inherited the pipes can hold them open after the child is gone, so after
 * 'exit' the wait for 'close' lasts at most `graceMs`.
 */
export function childEnded(child: ChildProcess, graceMs = 2000): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const streamsDone = (): boolean => [child.stdout, child.stderr].every((s) => s === null || s.readableEnded || s.destroyed);
    const exitedAlready = child.exitCode !== null || child.signalCode !== null;
    if (exitedAlready && streamsDone()) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    let grace: NodeJS.Timeout | null = null;
    const finish = (end: ChildEnd): void => {
      if (grace !== null) clearTimeout(grace);
      child.off('close', onClose);
      child.off('exit', onExit);
      resolve(end);
    };
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void => finish({ code, signal });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      grace = setTimeout(() => finish({ code, signal }), graceMs);
    };
    child.on('close', onClose);
    if (exitedAlready) onExit(child.exitCode, child.signalCode);
    else child.once('exit', onExit);
  });
}
