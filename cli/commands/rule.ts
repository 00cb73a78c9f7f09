import type { Command } from 'commander';

// Placeholder until the 'rule' command lands; registering nothing keeps the CLI building.
export function registerRule(_program: Command): void {}
