import type { Command } from 'commander';

// Placeholder until the 'status' command lands; registering nothing keeps the CLI building.
export function registerStatus(_program: Command): void {}
