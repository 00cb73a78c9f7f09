// Prints listAttachments(stateDir) as JSON; run inside a namespace by tests,
// because the kernel check depends on the caller's network namespace.
import { listAttachments } from '../../../host/kernel/attach.js';

const stateDir = process.argv[2];
if (!stateDir) throw new Error('usage: list-attachments <stateDir>');
process.stdout.write(`${JSON.stringify(listAttachments(stateDir))}\n`);
