// A failure policy or a limit can come from a control request, which may
// carry any JSON: the refusal shows what was given, as JSON.
import { describe, expect, it } from 'vitest';
import { parsePolicy, resolveLimits } from '../../../host/sandbox/limits.js';

describe('failure policy and limit values from anywhere', () => {
  it('accepts the three policies and names anything else as given', () => {
    expect(['fail-open', 'fail-closed', 'reload'].map((p) => parsePolicy(p))).toEqual(['fail-open', 'fail-closed', 'reload']);
    expect(() => parsePolicy('sometimes')).toThrow('--policy "sometimes" is not a failure policy');
    expect(() => parsePolicy({}, 'modules.load policy')).toThrow('modules.load policy {} is not a failure policy');
    expect(() => parsePolicy(['fail-open'])).toThrow('--policy ["fail-open"] is not a failure policy');
    expect(() => parsePolicy(undefined)).toThrow('--policy undefined is not a failure policy');
  });

  it('shows an object given as a limit as JSON', () => {
    expect(() => resolveLimits({ memoryMiB: { a: 1 } as unknown as number })).toThrow('sandbox limit memoryMiB must be an integer in 1..4096, got {"a":1}');
  });
});
