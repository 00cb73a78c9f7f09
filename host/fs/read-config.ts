// Module configuration files, wherever they are named (the daemon config,
// `module load --config`, a registration): text of a regular file, bounded.
import { SecuxflowError } from '../errors.js';
import { FileTooLarge, NotARegularFile, readRegularFile } from './read-regular.js';

/** Module configs are small JSON or text documents; this bound only stops a runaway read. */
export const MAX_MODULE_CONFIG_BYTES = 16 * 1024 * 1024;

/** The file as UTF-8, or E_IO naming `what` (e.g. "module x: its config") and why. */
export function readConfigFile(path: string, what: string, hint: string): string {
  try {
    return readRegularFile(path, MAX_MODULE_CONFIG_BYTES).toString('utf8');
  } catch (e) {
    if (e instanceof NotARegularFile) throw new SecuxflowError('E_IO', `${what} ${path} is ${e.kind}, not a regular file`, hint);
    if (e instanceof FileTooLarge) {
      throw new SecuxflowError('E_IO', `${what} ${path} is over ${MAX_MODULE_CONFIG_BYTES / 1048576} MiB`, 'module configurations are small documents: check the path');
    }
    throw new SecuxflowError('E_IO', `${what} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, hint);
  }
}
