// Rule-set helpers for kernel tests: rules are written as in a rule file and
// validated by the real parser, so tests use exactly what users can write.
import { validateRuleSet } from '../../../host/rules/parse.js';
import type { RuleAction } from '../../../host/verdict.js';
import type { RuleSet } from '../../../host/rules/types.js';

export function ruleSet(rules: Record<string, unknown>[], defaultPolicy: RuleAction = 'pass'): RuleSet {
  return validateRuleSet({ default_policy: defaultPolicy, rules }, 'test rules');
}
