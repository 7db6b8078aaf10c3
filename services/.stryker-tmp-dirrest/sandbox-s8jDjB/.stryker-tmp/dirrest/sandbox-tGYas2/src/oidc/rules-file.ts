// @ts-nocheck
// 
// The OIDC rules file (OIDC_CONFIG_FILE, YAML or JSON): trusted issuers and, per issuer, the rules that map
// a job token's claims to repository grants. Parsed and validated once at start; every problem is reported
// with its path in the file, all at once, like the environment variables.
import { parseDocument } from 'yaml';
import { isRepositoryPattern } from '../policy.ts';

/** Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037). HMAC and `none` can never be allowed. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export interface TokenRule {
  /** Claim name → accepted values (exact, or a glob in the AUTH_*_GROUPS pattern language); all must match. */
  readonly claims: Readonly<Record<string, readonly string[]>>;
  /** Repository patterns, possibly with `{claim}` placeholders. Push also grants pull, as AUTH_PUSH_GROUPS does. */
  readonly push: readonly string[];
  readonly pull: readonly string[];
  readonly delete: readonly string[];
}

export interface TrustedIssuer {
  /** Short label: the audit subject's prefix (`gitlab:…`) and the metrics' `issuer` label. */
  readonly name: string;
  /** The exact `iss` value; discovery is `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** PEM certificates trusted for the issuer's HTTPS endpoints; undefined: Node's default CAs. */
  readonly ca: readonly string[] | undefined;
  readonly algorithms: readonly string[];
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  /** Template of the audit subject, `{claim}` placeholders. */
  readonly subject: string;
  readonly rules: readonly TokenRule[];
}

export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 7200;
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const CLAIM = /^[A-Za-z0-9_.:-]{1,64}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

type Problems = string[];
type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKeys(path: string, value: Record<string, Json>, known: readonly string[], p: Problems): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) p.push(`${path}: unknown key "${key}" (known: ${known.join(', ')})`);
  }
}

/** A scalar claim value as the rules compare it: YAML's `true` and `"true"` are the same condition. */
function scalar(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `{name}` placeholders of a template; a problem for each malformed one. */
export function placeholders(template: string, path: string, p: Problems): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (PLACEHOLDER_NAME.test(name)) names.push(name);
    else p.push(`${path}: "{${name}}" is not a claim placeholder ({claim_name})`);
  }
  if (template.replace(PLACEHOLDER, '').search(/[{}]/) !== -1) p.push(`${path}: unbalanced { or }`);
  return names;
}

function patterns(path: string, value: Json, p: Problems): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  list.forEach((entry: Json, i) => {
    const where = Array.isArray(value) ? `${path}[${i}]` : path;
    if (typeof entry !== 'string' || entry === '') {
      p.push(`${where}: must be a repository pattern (a string)`);
      return;
    }
    placeholders(entry, where, p);
    // A placeholder stands for one valid repository name: check the pattern with a name in its place.
    if (!isRepositoryPattern(entry.replace(PLACEHOLDER, 'x'))) {
      p.push(
        `${where}: "${entry}" is not a repository pattern (lower-case name with * or **, {claim} placeholders)`,
      );
      return;
    }
    out.push(entry);
  });
  return out;
}

function claims(path: string, value: Json, p: Problems): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!isObject(value) || Object.keys(value).length === 0) {
    p.push(
      `${path}: must map at least one claim to its value(s); a rule without claims would match any token`,
    );
    return out;
  }
  for (const [claim, raw] of Object.entries(value)) {
    const where = `${path}.${claim}`;
    if (!CLAIM.test(claim)) p.push(`${where}: "${claim}" is not a claim name`);
    const list = Array.isArray(raw) ? raw : [raw];
    const values = list.map(scalar);
    if (list.length === 0 || values.some((v) => v === undefined || v === '')) {
      p.push(`${where}: must be a non-empty string, number or boolean, or a list of them`);
      continue;
    }
    out[claim] = values.filter((v): v is string => v !== undefined);
  }
  return out;
}

function rule(path: string, value: Json, p: Problems): TokenRule | undefined {
  if (!isObject(value)) {
    p.push(`${path}: must be a mapping with claims and push / pull / delete`);
    return undefined;
  }
  unknownKeys(path, value, ['claims', 'push', 'pull', 'delete'], p);
  const r: TokenRule = {
    claims: claims(`${path}.claims`, value['claims'], p),
    push: patterns(`${path}.push`, value['push'], p),
    pull: patterns(`${path}.pull`, value['pull'], p),
    delete: patterns(`${path}.delete`, value['delete'], p),
  };
  if (value['push'] === undefined && value['pull'] === undefined && value['delete'] === undefined) {
    p.push(`${path}: grants nothing (give push, pull or delete patterns)`);
  }
  return r;
}

function wholeNumber(
  path: string,
  value: Json,
  fallback: number,
  min: number,
  max: number,
  p: Problems,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    p.push(`${path}: must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

function issuerUrl(path: string, value: Json, p: Problems): string {
  if (typeof value !== 'string') {
    p.push(`${path}: required, the exact "iss" of the tokens (an https:// URL)`);
    return '';
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // OIDC Discovery §2: an https URL with no query or fragment.
  if (
    url?.protocol !== 'https:' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    p.push(`${path}: "${value}" is not an https:// URL without query, fragment or credentials`);
  }
  return value;
}

function stringList(path: string, value: Json, p: Problems): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    p.push(`${path}: required, a non-empty string or list of strings`);
    return [];
  }
  return list as string[];
}

function algorithms(path: string, value: Json, p: Problems): string[] {
  if (value === undefined) return [...ASYMMETRIC_ALGORITHMS];
  const list = stringList(path, value, p);
  for (const alg of list) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      p.push(`${path}: "${alg}" is not allowed (asymmetric only: ${ASYMMETRIC_ALGORITHMS.join(', ')})`);
    }
  }
  return list;
}

export type ReadCa = (file: string) => { certs: string[] } | { problem: string };

function issuer(path: string, value: Json, readCa: ReadCa, p: Problems): TrustedIssuer | undefined {
  if (!isObject(value)) {
    p.push(`${path}: must be a mapping (name, issuer, audience, rules, ...)`);
    return undefined;
  }
  const known = [
    'name',
    'issuer',
    'audience',
    'ca_file',
    'algorithms',
    'max_token_lifetime_seconds',
    'clock_skew_seconds',
    'subject',
    'rules',
  ];
  unknownKeys(path, value, known, p);
  const name = value['name'];
  if (typeof name !== 'string' || !NAME.test(name)) {
    p.push(`${path}.name: required, lower-case letters, digits and '-' (at most 32), e.g. gitlab`);
  }
  let ca: string[] | undefined;
  const caFile = value['ca_file'];
  if (caFile !== undefined) {
    if (typeof caFile !== 'string' || caFile === '') p.push(`${path}.ca_file: must be a file path`);
    else {
      const read = readCa(caFile);
      if ('problem' in read) p.push(`${path}.ca_file: ${read.problem}`);
      else ca = read.certs;
    }
  }
  const subject = value['subject'] ?? '{sub}';
  if (typeof subject !== 'string' || subject === '') p.push(`${path}.subject: must be a template string`);
  else placeholders(subject, `${path}.subject`, p);
  const rules = value['rules'];
  if (!Array.isArray(rules) || rules.length === 0) {
    p.push(`${path}.rules: required, a list of rules (first match wins; no match, no access)`);
  }
  return {
    name: typeof name === 'string' ? name : '',
    issuer: issuerUrl(`${path}.issuer`, value['issuer'], p),
    audiences: stringList(`${path}.audience`, value['audience'], p),
    ca,
    algorithms: algorithms(`${path}.algorithms`, value['algorithms'], p),
    maxTokenLifetimeSeconds: wholeNumber(
      `${path}.max_token_lifetime_seconds`,
      value['max_token_lifetime_seconds'],
      DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
      60,
      86_400,
      p,
    ),
    clockSkewSeconds: wholeNumber(
      `${path}.clock_skew_seconds`,
      value['clock_skew_seconds'],
      DEFAULT_CLOCK_SKEW_SECONDS,
      0,
      300,
      p,
    ),
    subject: typeof subject === 'string' ? subject : '{sub}',
    rules: (Array.isArray(rules) ? rules : [])
      .map((r: Json, i) => rule(`${path}.rules[${i}]`, r, p))
      .filter((r): r is TokenRule => r !== undefined),
  };
}

/**
 * Parses and validates the text of a rules file. Returns the issuers and every problem found (each one
 * names its place in the file); the issuers are only meaningful when there are no problems.
 */
export function parseRulesFile(
  text: string,
  readCa: ReadCa,
): { issuers: TrustedIssuer[]; problems: string[] } {
  const p: Problems = [];
  // JSON is YAML 1.2, so one parser reads both; duplicate keys are an error rather than a silent override.
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    // The first line of yaml's message ends "at line L, column C:"; the code excerpt after it is dropped.
    return {
      issuers: [],
      problems: doc.errors.map((e) => (e.message.split('\n')[0] ?? e.code).replace(/:$/, '')),
    };
  }
  let root: Json;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // An alias to an anchor never set, or more aliases than a rules file needs (a "billion laughs" file).
    return { issuers: [], problems: [(error as Error).message] };
  }
  if (!isObject(root)) return { issuers: [], problems: ['must be a mapping with an "issuers" list'] };
  unknownKeys('(top level)', root, ['issuers'], p);
  const list = root['issuers'];
  if (!Array.isArray(list) || list.length === 0) {
    p.push('issuers: required, a non-empty list of trusted issuers');
    return { issuers: [], problems: p };
  }
  const parsed = list.map((v: Json, i) => issuer(`issuers[${i}]`, v, readCa, p));
  const seen = { name: new Set<string>(), issuer: new Set<string>() };
  for (const [i, t] of parsed.entries()) {
    if (t === undefined) continue;
    for (const key of ['name', 'issuer'] as const) {
      if (t[key] !== '' && seen[key].has(t[key])) p.push(`issuers[${i}].${key}: "${t[key]}" appears twice`);
      seen[key].add(t[key]);
    }
  }
  return { issuers: parsed.filter((v): v is TrustedIssuer => v !== undefined), problems: p };
}
