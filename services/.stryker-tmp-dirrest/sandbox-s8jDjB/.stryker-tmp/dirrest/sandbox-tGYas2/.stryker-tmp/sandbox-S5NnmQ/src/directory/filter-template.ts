// @ts-nocheck
// 
// 
// LDAP search filters as templates with named placeholders. Operators write the template (trusted, checked
// once at start-up); request values are filled in later, always through RFC 4515 escaping.
import { Filter, FilterParser } from 'ldapts';

export type Placeholder = 'username' | 'dn';

/** One outermost filter: every '(' closed, and nothing after the parenthesis that closes the first. */
function assertBalanced(source: string): void {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth < 0 || (depth === 0 && i < source.length - 1))
      throw new Error('is not a valid LDAP filter (unbalanced parentheses)');
  }
  if (depth !== 0) throw new Error('is not a valid LDAP filter (unbalanced parentheses)');
}

export class FilterTemplate {
  readonly source: string;
  readonly placeholders: ReadonlySet<Placeholder>;
  // literals[0] slots[0] literals[1] slots[1] ... literals[n]
  readonly #literals: readonly string[];
  readonly #slots: readonly Placeholder[];

  private constructor(source: string, literals: readonly string[], slots: readonly Placeholder[]) {
    this.source = source;
    this.#literals = literals;
    this.#slots = slots;
    this.placeholders = new Set(slots);
  }

  /** Throws an Error whose message says what is wrong with the template. */
  static parse(source: string, allowed: readonly Placeholder[]): FilterTemplate {
    const trimmed = source.trim();
    if (!trimmed.startsWith('(') || !trimmed.endsWith(')'))
      throw new Error('must be enclosed in parentheses');
    assertBalanced(trimmed);
    const literals: string[] = [];
    const slots: Placeholder[] = [];
    let last = 0;
    for (const m of trimmed.matchAll(/\{([^{}]*)\}/g)) {
      const name = allowed.find((a) => a === m[1]);
      if (name === undefined) {
        throw new Error(`unknown placeholder ${m[0]} (allowed: ${allowed.map((a) => `{${a}}`).join(', ')})`);
      }
      literals.push(trimmed.slice(last, m.index));
      slots.push(name);
      last = m.index + m[0].length;
    }
    literals.push(trimmed.slice(last));
    const template = new FilterTemplate(trimmed, literals, slots);
    try {
      // Filled with a value that needs escaping, the result must still be one well-formed filter.
      FilterParser.parseString(template.fill({ username: 'x*()\\', dn: 'cn=x\\,y,dc=example' }));
    } catch (error) {
      throw new Error(
        `is not a valid LDAP filter (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    return template;
  }

  /** Every value is escaped per RFC 4515 §3: `*`, `(`, `)`, `\\` and NUL become `\\XX`; UTF-8 text stays as is. */
  fill(values: Readonly<Record<Placeholder, string>>): string {
    let out = this.#literals[0] ?? '';
    this.#slots.forEach((slot, i) => {
      out += Filter.escape(values[slot]) + (this.#literals[i + 1] ?? '');
    });
    return out;
  }

  /** A new template with `search` replaced by `replacement` in its trusted text. */
  replaceTrusted(search: string, replacement: string, allowed: readonly Placeholder[]): FilterTemplate {
    return FilterTemplate.parse(this.source.split(search).join(replacement), allowed);
  }
}
