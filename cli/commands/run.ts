import type { Command } from 'commander';

// Placeholder until the 'run' command lands; registering nothing keeps the CLI building.
export function registerRun(_program: Command): void {}
