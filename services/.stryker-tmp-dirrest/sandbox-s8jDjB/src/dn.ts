// @ts-nocheck
// Distinguished names (RFC 4514 §3), parsed and compared the way a directory compares them. ldapts's DN
// class builds and escapes DNs but does not parse one, so this small parser does.
//
// Comparison (RFC 4517 distinguishedNameMatch): the same RDNs in the same order, each the same set of
// attribute type and value pairs. Types compare case-insensitively, with the common OIDs and long names
// read as their short names; values compare after unescaping, with caseIgnoreMatch (RFC 4518: NFKC,
// case folded, leading and trailing spaces dropped and inner runs of spaces counted as one), which is
// the equality rule of cn, ou, o, dc, uid and the other naming attributes. So `cn=a\, b` and `cn=a\,b`
// differ (one value holds a space), while `CN=A,OU=B` and `cn=a, ou=b` are the same DN.

/** One attribute type and value; `ber` when the value was given as `#` and its BER encoding in hex. */
export interface Ava {
  readonly type: string;
  readonly value: string;
  readonly ber?: true;
}

/** A DN's RDNs in written order (the entry's own RDN first). */
export type Dn = readonly (readonly Ava[])[];

// RFC 4519 (and RFC 4524 for dc/uid): numeric and long forms of the naming attributes.
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'cn',
  commonname: 'cn',
  '2.5.4.6': 'c',
  countryname: 'c',
  '2.5.4.7': 'l',
  localityname: 'l',
  '2.5.4.8': 'st',
  stateorprovincename: 'st',
  '2.5.4.9': 'street',
  streetaddress: 'street',
  '2.5.4.10': 'o',
  organizationname: 'o',
  '2.5.4.11': 'ou',
  organizationalunitname: 'ou',
  '0.9.2342.19200300.100.1.25': 'dc',
  domaincomponent: 'dc',
  '0.9.2342.19200300.100.1.1': 'uid',
  userid: 'uid',
};

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)/;
// RFC 4514 `special` and ESC: the characters that may follow a backslash as themselves.
const ESCAPABLE = new Set(['\\', '"', '+', ',', ';', '<', '>', ' ', '#', '=']);
// Characters that must be escaped in a value (RFC 4514 §2.4; ',' '+' ';' end the value instead).
const MUST_ESCAPE = new Set(['"', '<', '>', '\u0000']);
const HEX = /^[0-9A-Fa-f]{2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

class Cursor {
  readonly text: string;
  pos = 0;
  constructor(text: string) {
    this.text = text;
  }
  atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text[this.pos] ?? '';
  }
  /** Unescaped spaces around separators are accepted (RFC 4514 §3 lets parsers accept more). */
  skipSpaces(): void {
    while (this.peek() === ' ') this.pos++;
  }
}

/** The value after `=`, unescaped; undefined when it breaks RFC 4514's escaping rules or is not UTF-8. */
function readValue(c: Cursor): { value: string; ber?: true } | undefined {
  if (c.peek() === '#') {
    const hex = /^#((?:[0-9A-Fa-f]{2})+)/.exec(c.text.slice(c.pos));
    if (hex === null) return undefined;
    c.pos += hex[0].length;
    return { value: (hex[1] ?? '').toLowerCase(), ber: true };
  }
  const bytes: number[] = [];
  // Unescaped spaces at the end are not part of the value; escaped ones are.
  let significant = 0;
  while (!c.atEnd()) {
    // A whole code point: a surrogate pair is one character of the value.
    const ch = String.fromCodePoint(c.text.codePointAt(c.pos) ?? 0);
    if (ch === ',' || ch === '+' || ch === ';') break;
    if (MUST_ESCAPE.has(ch)) return undefined;
    c.pos += ch.length;
    if (ch === '\\') {
      const pair = c.text.slice(c.pos, c.pos + 2);
      if (HEX.test(pair)) {
        bytes.push(Number.parseInt(pair, 16));
        c.pos += 2;
      } else if (ESCAPABLE.has(c.peek())) {
        bytes.push(c.peek().charCodeAt(0));
        c.pos++;
      } else {
        return undefined;
      }
      significant = bytes.length;
      continue;
    }
    bytes.push(...encoder.encode(ch));
    if (ch !== ' ') significant = bytes.length;
  }
  try {
    return { value: utf8.decode(new Uint8Array(bytes.slice(0, significant))) };
  } catch {
    return undefined; // a hex escape that is not UTF-8: not a DN this service can compare
  }
}

/** Parses an RFC 4514 DN string; undefined when malformed. The empty string is the empty DN. */
export function parseDn(text: string): Dn | undefined {
  const c = new Cursor(text);
  const rdns: Ava[][] = [];
  c.skipSpaces();
  if (c.atEnd()) return rdns;
  for (;;) {
    const rdn: Ava[] = [];
    for (;;) {
      c.skipSpaces();
      const type = TYPE.exec(c.text.slice(c.pos))?.[0];
      if (type === undefined) return undefined;
      c.pos += type.length;
      c.skipSpaces();
      if (c.peek() !== '=') return undefined;
      c.pos++;
      c.skipSpaces();
      const value = readValue(c);
      if (value === undefined) return undefined;
      const lower = type.toLowerCase();
      rdn.push({ type: TYPE_ALIASES[lower] ?? lower, ...value });
      if (c.peek() !== '+') break;
      c.pos++;
    }
    rdns.push(rdn);
    if (c.atEnd()) return rdns;
    // ',' separates RDNs; ';' is the older form RFC 4514 §3 allows parsers to accept.
    if (c.peek() !== ',' && c.peek() !== ';') return undefined;
    c.pos++;
  }
}

/** caseIgnoreMatch's view of a value (RFC 4518 §2: NFKC, case folding, insignificant space handling). */
function matchingForm(ava: Ava): string {
  return ava.value.normalize('NFKC').toLowerCase().replace(/ +/g, ' ').trim();
}

function rdnKey(rdn: readonly Ava[]): string {
  // A multi-valued RDN is a set: its pairs compare in any order.
  // A BER value is compared as its bytes, never equal to a string value that reads the same.
  return JSON.stringify(
    rdn.map((ava) => (ava.ber === true ? [ava.type, '#', ava.value] : [ava.type, matchingForm(ava)])).sort(),
  );
}

/** A string equal for exactly the DNs that match each other; undefined when `text` is not a DN. */
export function dnKey(text: string): string | undefined {
  const dn = parseDn(text);
  return dn === undefined ? undefined : `[${dn.map(rdnKey).join(',')}]`;
}

/** True when both are DNs and they match (RFC 4517 distinguishedNameMatch with caseIgnoreMatch values). */
export function sameDn(a: string, b: string): boolean {
  const key = dnKey(a);
  return key !== undefined && key === dnKey(b);
}

/** True when `dn` is `base` or lies below it (a subtree search from `base` can find it). */
export function isWithin(dn: string, base: string): boolean {
  const entry = parseDn(dn);
  const root = parseDn(base);
  if (entry === undefined || root === undefined || root.length > entry.length) return false;
  const offset = entry.length - root.length;
  return root.every((rdn, i) => rdnKey(rdn) === rdnKey(entry[offset + i] ?? []));
}
