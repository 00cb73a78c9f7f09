// Interface names become path components (pin dirs) and netlink arguments, so
// they are validated once, with the kernel's own rules (dev_valid_name).
import { SecuxflowError } from '../errors.js';

const IFNAMSIZ = 16;

export function isValidIfaceName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) >= IFNAMSIZ) return false;
  if (name === '.' || name === '..') return false;
  return !/[\s/:]/.test(name);
}

export function assertIfaceName(name: string, flag = '--iface'): void {
  if (!isValidIfaceName(name)) {
    throw new SecuxflowError(
      'E_USAGE',
      `${flag} ${JSON.stringify(name)} is not a valid interface name`,
      'names are 1-15 bytes with no "/", ":" or whitespace; list interfaces with: ip -br link',
    );
  }
}
