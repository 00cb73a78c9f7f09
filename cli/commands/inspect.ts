import type { Command } from 'commander';

// Placeholder until the 'inspect' command lands; registering nothing keeps the CLI building.
export function registerInspect(_program: Command): void {}
