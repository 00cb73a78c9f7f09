// Outputs that are named pipes (`mkfifo`, or `--eve >(jq .)`). Opening a
// FIFO's write end waits for a reader, and when the last write end closes the
// reader gets an end of file. So a FIFO output is not probed the way a file
// is (open, close: its reader would see the output end before it began), and
// it is held open from the first open until the writer has its own.
import { closeSync, constants, openSync, statSync } from 'node:fs';
import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';

export function isFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/**
 * Opens the FIFO's write end and returns the descriptor to hold. When no
 * reader has it open yet, calls onWaiting first, then waits for one.
 */
export function holdFifo(flag: string, path: string, onWaiting: () => void): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENXIO') {
      throw new SecuxflowError('E_IO', printable(`${flag} ${path}: cannot open the named pipe: ${(e as Error).message}`), 'check its permissions, or give a file');
    }
  }
  onWaiting();
  return openSync(path, constants.O_WRONLY);
}

/** Runs open() with every FIFO among `outputs` held open, then lets them go: open() has opened its own. */
export function withFifosHeld<T>(outputs: readonly { flag: string; path: string }[], onWaiting: (flag: string, path: string) => void, open: () => T): T {
  const held: number[] = [];
  try {
    for (const o of outputs) {
      if (o.path !== '-' && isFifo(o.path)) held.push(holdFifo(o.flag, o.path, () => onWaiting(o.flag, o.path)));
    }
    return open();
  } finally {
    for (const fd of held) closeSync(fd);
  }
}
