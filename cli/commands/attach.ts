import type { Command } from 'commander';

// Placeholder until the 'attach' command lands; registering nothing keeps the CLI building.
export function registerAttach(_program: Command): void {}
