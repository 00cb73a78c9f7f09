import type { Command } from 'commander';

// Placeholder until the 'alerts' command lands; registering nothing keeps the CLI building.
export function registerAlerts(_program: Command): void {}
