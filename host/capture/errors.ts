import { SecuxflowError } from '../errors.js';

/** A corrupt or unsupported capture; `offset` is the byte where the problem starts. */
export class CaptureError extends SecuxflowError {
  readonly offset: number;
  readonly file: string;

  constructor(file: string, offset: number, problem: string, hint?: string) {
    super('E_CAPTURE', `${file}: byte offset ${offset}: ${problem}`, hint);
    this.name = 'CaptureError';
    this.offset = offset;
    this.file = file;
  }
}
