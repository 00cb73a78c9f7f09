import type { Command } from 'commander';

// Placeholder until the 'module' command lands; registering nothing keeps the CLI building.
export function registerModule(_program: Command): void {}
