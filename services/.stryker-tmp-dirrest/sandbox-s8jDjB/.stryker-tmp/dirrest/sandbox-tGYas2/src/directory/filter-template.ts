// @ts-nocheck
// 
// LDAP search filters as templates with named placeholders. Operators write the template (trusted, checked
// once at start-up); request values are filled in later, always through RFC 4515 escaping.
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { Filter, FilterParser } from 'ldapts';
export type Placeholder = 'username' | 'dn';

/** One outermost filter: every '(' closed, and nothing after the parenthesis that closes the first. */
function assertBalanced(source: string): void {
  if (stryMutAct_9fa48("0")) {
    {}
  } else {
    stryCov_9fa48("0");
    let depth = 0;
    for (let i = 0; stryMutAct_9fa48("3") ? i >= source.length : stryMutAct_9fa48("2") ? i <= source.length : stryMutAct_9fa48("1") ? false : (stryCov_9fa48("1", "2", "3"), i < source.length); stryMutAct_9fa48("4") ? i-- : (stryCov_9fa48("4"), i++)) {
      if (stryMutAct_9fa48("5")) {
        {}
      } else {
        stryCov_9fa48("5");
        const c = source[i];
        if (stryMutAct_9fa48("8") ? c !== '(' : stryMutAct_9fa48("7") ? false : stryMutAct_9fa48("6") ? true : (stryCov_9fa48("6", "7", "8"), c === (stryMutAct_9fa48("9") ? "" : (stryCov_9fa48("9"), '(')))) stryMutAct_9fa48("10") ? depth-- : (stryCov_9fa48("10"), depth++);else if (stryMutAct_9fa48("13") ? c !== ')' : stryMutAct_9fa48("12") ? false : stryMutAct_9fa48("11") ? true : (stryCov_9fa48("11", "12", "13"), c === (stryMutAct_9fa48("14") ? "" : (stryCov_9fa48("14"), ')')))) stryMutAct_9fa48("15") ? depth++ : (stryCov_9fa48("15"), depth--);
        if (stryMutAct_9fa48("18") ? depth < 0 && depth === 0 && i < source.length - 1 : stryMutAct_9fa48("17") ? false : stryMutAct_9fa48("16") ? true : (stryCov_9fa48("16", "17", "18"), (stryMutAct_9fa48("21") ? depth >= 0 : stryMutAct_9fa48("20") ? depth <= 0 : stryMutAct_9fa48("19") ? false : (stryCov_9fa48("19", "20", "21"), depth < 0)) || (stryMutAct_9fa48("23") ? depth === 0 || i < source.length - 1 : stryMutAct_9fa48("22") ? false : (stryCov_9fa48("22", "23"), (stryMutAct_9fa48("25") ? depth !== 0 : stryMutAct_9fa48("24") ? true : (stryCov_9fa48("24", "25"), depth === 0)) && (stryMutAct_9fa48("28") ? i >= source.length - 1 : stryMutAct_9fa48("27") ? i <= source.length - 1 : stryMutAct_9fa48("26") ? true : (stryCov_9fa48("26", "27", "28"), i < (stryMutAct_9fa48("29") ? source.length + 1 : (stryCov_9fa48("29"), source.length - 1)))))))) throw new Error(stryMutAct_9fa48("31") ? "" : (stryCov_9fa48("31"), 'is not a valid LDAP filter (unbalanced parentheses)'));
      }
    }
    if (stryMutAct_9fa48("34") ? depth === 0 : stryMutAct_9fa48("33") ? false : stryMutAct_9fa48("32") ? true : (stryCov_9fa48("32", "33", "34"), depth !== 0)) throw new Error(stryMutAct_9fa48("36") ? "" : (stryCov_9fa48("36"), 'is not a valid LDAP filter (unbalanced parentheses)'));
  }
}
export class FilterTemplate {
  readonly source: string;
  readonly placeholders: ReadonlySet<Placeholder>;
  // literals[0] slots[0] literals[1] slots[1] ... literals[n]
  readonly #literals: readonly string[];
  readonly #slots: readonly Placeholder[];
  private constructor(source: string, literals: readonly string[], slots: readonly Placeholder[]) {
    if (stryMutAct_9fa48("37")) {
      {}
    } else {
      stryCov_9fa48("37");
      this.source = source;
      this.#literals = literals;
      this.#slots = slots;
      this.placeholders = new Set(slots);
    }
  }

  /** Throws an Error whose message says what is wrong with the template. */
  static parse(source: string, allowed: readonly Placeholder[]): FilterTemplate {
    if (stryMutAct_9fa48("38")) {
      {}
    } else {
      stryCov_9fa48("38");
      const trimmed = stryMutAct_9fa48("39") ? source : (stryCov_9fa48("39"), source.trim());
      if (stryMutAct_9fa48("42") ? !trimmed.startsWith('(') && !trimmed.endsWith(')') : stryMutAct_9fa48("41") ? false : stryMutAct_9fa48("40") ? true : (stryCov_9fa48("40", "41", "42"), (stryMutAct_9fa48("43") ? trimmed.startsWith('(') : (stryCov_9fa48("43"), !(stryMutAct_9fa48("44") ? trimmed.endsWith('(') : (stryCov_9fa48("44"), trimmed.startsWith(stryMutAct_9fa48("45") ? "" : (stryCov_9fa48("45"), '(')))))) || (stryMutAct_9fa48("46") ? trimmed.endsWith(')') : (stryCov_9fa48("46"), !(stryMutAct_9fa48("47") ? trimmed.startsWith(')') : (stryCov_9fa48("47"), trimmed.endsWith(stryMutAct_9fa48("48") ? "" : (stryCov_9fa48("48"), ')')))))))) throw new Error(stryMutAct_9fa48("50") ? "" : (stryCov_9fa48("50"), 'must be enclosed in parentheses'));
      if (stryMutAct_9fa48("51")) {
        ;
      } else {
        stryCov_9fa48("51");
        assertBalanced(trimmed);
      }
      const literals: string[] = stryMutAct_9fa48("52") ? ["Stryker was here"] : (stryCov_9fa48("52"), []);
      const slots: Placeholder[] = stryMutAct_9fa48("53") ? ["Stryker was here"] : (stryCov_9fa48("53"), []);
      let last = 0;
      for (const m of trimmed.matchAll(stryMutAct_9fa48("55") ? /\{([{}]*)\}/g : stryMutAct_9fa48("54") ? /\{([^{}])\}/g : (stryCov_9fa48("54", "55"), /\{([^{}]*)\}/g))) {
        if (stryMutAct_9fa48("56")) {
          {}
        } else {
          stryCov_9fa48("56");
          const name = allowed.find(stryMutAct_9fa48("57") ? () => undefined : (stryCov_9fa48("57"), a => stryMutAct_9fa48("60") ? a !== m[1] : stryMutAct_9fa48("59") ? false : stryMutAct_9fa48("58") ? true : (stryCov_9fa48("58", "59", "60"), a === m[1])));
          if (stryMutAct_9fa48("63") ? name !== undefined : stryMutAct_9fa48("62") ? false : stryMutAct_9fa48("61") ? true : (stryCov_9fa48("61", "62", "63"), name === undefined)) {
            if (stryMutAct_9fa48("64")) {
              {}
            } else {
              stryCov_9fa48("64");
              throw new Error(stryMutAct_9fa48("66") ? `` : (stryCov_9fa48("66"), `unknown placeholder ${m[0]} (allowed: ${allowed.map(stryMutAct_9fa48("67") ? () => undefined : (stryCov_9fa48("67"), a => stryMutAct_9fa48("68") ? `` : (stryCov_9fa48("68"), `{${a}}`))).join(stryMutAct_9fa48("69") ? "" : (stryCov_9fa48("69"), ', '))})`));
            }
          }
          literals.push(stryMutAct_9fa48("71") ? trimmed : (stryCov_9fa48("71"), trimmed.slice(last, m.index)));
          if (stryMutAct_9fa48("72")) {
            ;
          } else {
            stryCov_9fa48("72");
            slots.push(name);
          }
          last = stryMutAct_9fa48("73") ? m.index - m[0].length : (stryCov_9fa48("73"), m.index + m[0].length);
        }
      }
      literals.push(stryMutAct_9fa48("75") ? trimmed : (stryCov_9fa48("75"), trimmed.slice(last)));
      const template = new FilterTemplate(trimmed, literals, slots);
      try {
        if (stryMutAct_9fa48("76")) {
          {}
        } else {
          stryCov_9fa48("76");
          // Filled with a value that needs escaping, the result must still be one well-formed filter.
          FilterParser.parseString(template.fill(stryMutAct_9fa48("78") ? {} : (stryCov_9fa48("78"), {
            username: stryMutAct_9fa48("79") ? "" : (stryCov_9fa48("79"), 'x*()\\'),
            dn: stryMutAct_9fa48("80") ? "" : (stryCov_9fa48("80"), 'cn=x\\,y,dc=example')
          })));
        }
      } catch (error) {
        if (stryMutAct_9fa48("81")) {
          {}
        } else {
          stryCov_9fa48("81");
          throw new Error(stryMutAct_9fa48("83") ? `` : (stryCov_9fa48("83"), `is not a valid LDAP filter (${error instanceof Error ? error.message : String(error)})`));
        }
      }
      return template;
    }
  }

  /** Every value is escaped per RFC 4515 §3: `*`, `(`, `)`, `\\` and NUL become `\\XX`; UTF-8 text stays as is. */
  fill(values: Readonly<Record<Placeholder, string>>): string {
    if (stryMutAct_9fa48("84")) {
      {}
    } else {
      stryCov_9fa48("84");
      let out = stryMutAct_9fa48("85") ? this.#literals[0] && '' : (stryCov_9fa48("85"), this.#literals[0] ?? (stryMutAct_9fa48("86") ? "Stryker was here!" : (stryCov_9fa48("86"), '')));
      this.#slots.forEach((slot, i) => {
        if (stryMutAct_9fa48("88")) {
          {}
        } else {
          stryCov_9fa48("88");
          stryMutAct_9fa48("89") ? out -= Filter.escape(values[slot]) + (this.#literals[i + 1] ?? '') : (stryCov_9fa48("89"), out += stryMutAct_9fa48("90") ? Filter.escape(values[slot]) - (this.#literals[i + 1] ?? '') : (stryCov_9fa48("90"), Filter.escape(values[slot]) + (stryMutAct_9fa48("91") ? this.#literals[i + 1] && '' : (stryCov_9fa48("91"), this.#literals[stryMutAct_9fa48("92") ? i - 1 : (stryCov_9fa48("92"), i + 1)] ?? (stryMutAct_9fa48("93") ? "Stryker was here!" : (stryCov_9fa48("93"), ''))))));
        }
      });
      return out;
    }
  }

  /** A new template with `search` replaced by `replacement` in its trusted text. */
  replaceTrusted(search: string, replacement: string, allowed: readonly Placeholder[]): FilterTemplate {
    if (stryMutAct_9fa48("94")) {
      {}
    } else {
      stryCov_9fa48("94");
      return FilterTemplate.parse(this.source.split(search).join(replacement), allowed);
    }
  }
}