// @ts-nocheck
// Authorization of a verified job token as data: the first rule of its issuer whose claim conditions all
// hold decides what the token may do, as a Policy over the same pattern language as AUTH_*_GROUPS.
import { Policy, globToRegExp } from '../policy.ts';
import type { Members, Rule } from '../policy.ts';
import { isRepositoryName } from '../registry-scope.ts';
import type { Action } from '../registry-scope.ts';
import type { TokenRule, TrustedIssuer } from './rules-file.ts';

export type Claims = Readonly<Record<string, unknown>>;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MAX_SUBJECT_LENGTH = 256;
const EVERY_TOKEN: Members = { kind: 'authenticated' };

/** A claim's value(s) as text: scalars as they print, arrays element by element, anything else nothing. */
function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v: unknown) => (Array.isArray(v) ? [] : claimValues(v)));
  return [];
}

type Matcher = (text: string) => boolean;

function matcher(value: string): Matcher {
  if (!value.includes('*')) return (text) => text === value;
  const re = globToRegExp(value);
  return (text) => re.test(text);
}

interface CompiledRule {
  readonly conditions: readonly { readonly claim: string; readonly accepts: readonly Matcher[] }[];
  readonly grants: readonly { readonly actions: readonly Action[]; readonly patterns: readonly string[] }[];
}

function compile(rule: TokenRule): CompiledRule {
  return {
    conditions: Object.entries(rule.claims).map(([claim, values]) => ({
      claim,
      accepts: values.map(matcher),
    })),
    grants: [
      { actions: ['push', 'pull'], patterns: rule.push },
      { actions: ['pull'], patterns: rule.pull },
      { actions: ['delete'], patterns: rule.delete },
    ],
  };
}

/**
 * A pattern with its `{claim}` placeholders filled in, or undefined when a claim is missing or is not a
 * single valid repository name (lower-cased, as GitLab's own registry names projects). Validating the value
 * as a name keeps it literal: it cannot bring a `*` into the pattern.
 */
export function fillPattern(pattern: string, claims: Claims): string | undefined {
  const values = new Map<string, string>();
  for (const [, name = ''] of pattern.matchAll(PLACEHOLDER)) {
    const value = claims[name];
    const text = typeof value === 'string' ? value.toLowerCase() : undefined;
    if (text === undefined || !isRepositoryName(text)) return undefined;
    values.set(name, text);
  }
  return pattern.replace(PLACEHOLDER, (_, name: string) => values.get(name) ?? '');
}

export interface RuleMatch {
  /** Index of the matching rule in the issuer's list (for the operator's log). */
  readonly index: number;
  readonly policy: Policy;
}

export class IssuerRules {
  readonly #issuer: TrustedIssuer;
  readonly #rules: readonly CompiledRule[];

  constructor(issuer: TrustedIssuer) {
    this.#issuer = issuer;
    this.#rules = issuer.rules.map(compile);
  }

  /** The first rule whose conditions all hold, as the Policy it grants; undefined when none does. */
  match(claims: Claims): RuleMatch | undefined {
    const index = this.#rules.findIndex((rule) =>
      rule.conditions.every(({ claim, accepts }) =>
        claimValues(claims[claim]).some((text) => accepts.some((accept) => accept(text))),
      ),
    );
    const rule = this.#rules[index];
    if (rule === undefined) return undefined;
    const rules: Rule[] = [{ actions: ['login'], members: EVERY_TOKEN }];
    for (const grant of rule.grants) {
      for (const pattern of grant.patterns) {
        const filled = fillPattern(pattern, claims);
        if (filled !== undefined) {
          rules.push({ actions: grant.actions, members: EVERY_TOKEN, repositories: globToRegExp(filled) });
        }
      }
    }
    return { index, policy: new Policy(rules) };
  }

  /** `<issuer name>:<subject template filled>`, for the audit log and X-Auth-User; never the token. */
  subject(claims: Claims): string {
    const filled = this.#issuer.subject.replace(PLACEHOLDER, (_, name: string) => {
      const [first] = claimValues(claims[name]);
      return first === undefined ? '-' : first.slice(0, 128);
    });
    return `${this.#issuer.name}:${filled}`.slice(0, MAX_SUBJECT_LENGTH);
  }
}
