// @ts-nocheck
// 
// Typed access to environment variables that collects every problem instead of stopping at the first,
// and remembers which variables it read (so the documented table can be checked against the code).
import { readFileSync } from 'node:fs';
import { FilterTemplate } from './directory/filter-template.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems while reading variables, so the operator sees all of them in one start. */
export class Reader {
  readonly problems: string[] = [];
  /** Every variable read, so the documented table can be checked against the code. */
  readonly names = new Set<string>();
  readonly #env: Env;
  constructor(env: Env) {
    this.#env = env;
  }

  raw(name: string): string | undefined {
    this.names.add(name);
    const value = this.#env[name]?.trim();
    return value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    return value ?? '';
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  /**
   * Comma-separated. A comma followed by `attr=` continues a DN rather than starting an entry, so one DN can
   * be given as is; several DNs are separated with `;` (then only `;` separates).
   */
  list(name: string): string[] {
    const value = this.raw(name) ?? '';
    return (
      value
        // A comma that starts the next RDN of a DN (`,ou=…`) or is escaped in a DN value (`\,`, after an even
        // number of backslashes before it) does not separate entries.
        .split(value.includes(';') ? ';' : /(?<=(?:^|[^\\])(?:\\\\)*),(?!\s*[A-Za-z][A-Za-z0-9-]*\s*=)/)
        .map((s) => s.trim())
        .filter((s) => s !== '')
    );
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  }

  /** NAME, or the contents of the file NAME_FILE (one trailing newline dropped), never both. */
  secret(name: string): string | undefined {
    this.names.add(name);
    const direct = this.#env[name];
    const file = this.raw(`${name}_FILE`);
    if (direct !== undefined && direct !== '' && file !== undefined) {
      this.problems.push(`set ${name} or ${name}_FILE, not both`);
      return undefined;
    }
    if (file === undefined) return direct === '' ? undefined : direct;
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      this.problems.push(
        `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
  }

  filter(name: string, source: string, allowed: readonly ('username' | 'dn')[]): FilterTemplate | undefined {
    try {
      return FilterTemplate.parse(source, allowed);
    } catch (error) {
      this.problems.push(`${name} ${(error as Error).message}: ${source}`);
      return undefined;
    }
  }
}
