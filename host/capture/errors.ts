import { SecuxflowError } from '../errors.js';
import { printable } from '../text.js';

/** A corrupt or unsupported capture; `offset` is the byte where the problem starts. */
export class CaptureError extends SecuxflowError {
  readonly offset: number;
  readonly file: string;

  constructor(file: string, offset: number, problem: string, hint?: string) {
    // Every corruption gets a hint: what was read still counts, and where it stopped.
    // The file name is the user's (or a directory's) text: printed escaped, it cannot drive the terminal.
    super('E_CAPTURE', `${printable(file)}: byte offset ${offset}: ${problem}`,
      hint ?? `the capture is damaged at byte ${offset}: every frame before it was read, none after`);
    this.name = 'CaptureError';
    this.offset = offset;
    this.file = file;
  }
}
