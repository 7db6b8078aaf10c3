// @ts-nocheck
// 
// Maps a registry API request (method + raw URI) to the access it needs, mirroring distribution's
// `appendAccessRecords` (registry/auth) and its v2 route table (registry/api/v2/routes.go).

export type Action = 'login' | 'pull' | 'push' | 'delete' | 'catalog';

export interface Access {
  readonly action: Action;
  /** The repository name; absent for `login` and `catalog`. */
  readonly repository?: string;
}

/** `invalid_request`: not a route this service authorizes; `form_body`: parameters in a body it cannot see. */
export type ScopeDenial = 'invalid_request' | 'form_body';

export type ScopeResult =
  | { readonly ok: true; readonly access: readonly Access[] }
  | { readonly ok: false; readonly why: string; readonly denial: ScopeDenial };

// The repository name as distribution v2.8.2 routes it (reference.NameRegexp in reference/regexp.go): an
// optional domain (which may hold upper case and a port) and '/', then lower-case path components joined
// by '/'; at most 255 characters in all (reference.NameTotalLengthMax). The component separator there is
// `(?:[._]|__|[-]*)`; `-+` accepts the same names without the empty alternative, which would make this
// backtracking engine exponential on a near miss (Go's RE2 is linear).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*`;
const NAME_RE = new RegExp(`^${NAME}$`);
const MAX_NAME_LENGTH = 255;
// A tag (reference.TagRegexp) or a digest (go-digest's DigestRegexp, as Debian's build links it).
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
// The upload route's `{uuid:[a-zA-Z0-9-_.=]+}`; a lone `.` or `..` is a dot segment and refused before.
const UPLOAD_ID = '[A-Za-z0-9_.=-]+';
// Longer than any route with a valid name, tag or digest of a real algorithm; bounds the regex work.
const MAX_PATH_LENGTH = 1024;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Action>>;
}

/**
 * One route per entry of distribution's route table (registry/api/v2/descriptors.go), with the methods its
 * dispatchers answer. The router is gorilla/mux with StrictSlash(true): each path also matches with its
 * trailing slash added or removed, and the registry answers that with a 301 to the canonical path, so
 * both forms need the same access. No path matches two of these routes: their last segments differ,
 * and a digest holds a ':' where an upload id cannot.
 */
const route = (template: string, methods: Readonly<Record<string, Action>>): Route => ({
  pattern: new RegExp(`^${template.replace(/\/$/, '')}/?$`),
  methods,
});

const ROUTES: readonly Route[] = [
  route('/v2/', { GET: 'login', HEAD: 'login' }),
  route('/v2/_catalog', { GET: 'catalog' }),
  route(`/v2/(${NAME})/tags/list`, { GET: 'pull', HEAD: 'pull' }),
  route(`/v2/(${NAME})/manifests/(?:${TAG}|${DIGEST})`, {
    GET: 'pull',
    HEAD: 'pull',
    PUT: 'push',
    DELETE: 'delete',
  }),
  route(`/v2/(${NAME})/blobs/uploads/`, { POST: 'push' }),
  // GET and HEAD are the upload's status; DELETE cancels the upload, which is part of pushing. POST here
  // would start another upload, mount included, and no client sends it: refused.
  route(`/v2/(${NAME})/blobs/uploads/${UPLOAD_ID}`, {
    GET: 'push',
    HEAD: 'push',
    PATCH: 'push',
    PUT: 'push',
    DELETE: 'push',
  }),
  route(`/v2/(${NAME})/blobs/${DIGEST}`, { GET: 'pull', HEAD: 'pull', DELETE: 'delete' }),
  // Not in distribution 2.8 (it answers 404); the OCI 1.1 referrers API of newer registries.
  route(`/v2/(${NAME})/referrers/${DIGEST}`, { GET: 'pull', HEAD: 'pull' }),
];

function deny(why: string, denial: ScopeDenial = 'invalid_request'): ScopeResult {
  return { ok: false, why, denial };
}

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/**
 * `uri` is the raw request target as nginx saw it (`$request_uri`): path and query, never decoded.
 * Anything that is not exactly a registry route is denied: percent-encoding, dot segments and empty
 * segments in the path are refused outright rather than normalised (the registry would answer them with
 * a redirect anyway), so the name we authorize is the name the registry serves.
 * `contentType` is the request's Content-Type header as the proxy forwards it (absent: none was sent).
 */
export function requiredAccess(method: string, uri: string, contentType?: string): ScopeResult {
  const hidden = bodyParameters(method, contentType);
  if (hidden !== undefined) return deny(hidden, 'form_body');
  const q = uri.indexOf('?');
  const path = q === -1 ? uri : uri.slice(0, q);
  const query = q === -1 ? '' : uri.slice(q + 1);

  if (path !== '/v2' && !path.startsWith('/v2/')) return deny('not under /v2/');
  if (path.length > MAX_PATH_LENGTH) return deny('path too long');
  if (path.includes('%')) return deny('percent-encoded path');
  if (/(?:^|\/)\.{1,2}(?:\/|$)/.test(path)) return deny('dot segment in path');

  for (const { pattern, methods } of ROUTES) {
    const match = pattern.exec(path);
    if (match === null) continue;
    const repository = match[1];
    if (repository !== undefined && repository.length > MAX_NAME_LENGTH) {
      return deny('repository name too long');
    }
    const action = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (action === undefined) return deny('method not allowed on this route');
    if (repository === undefined) return { ok: true, access: [{ action }] };
    if (action === 'push' && method === 'POST') return uploadStart(repository, query);
    return { ok: true, access: [{ action, repository }] };
  }
  return deny('unknown route');
}

/** `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other>` also reads from `<other>`. */
function uploadStart(repository: string, query: string): ScopeResult {
  const push: Access = { action: 'push', repository };
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return deny('malformed query');
  }
  const from = params.getAll('from');
  const mount = params.getAll('mount');
  // distribution mounts only when both are given; `mount` alone is an ordinary upload.
  if (from.length === 0) return { ok: true, access: [push] };
  const source = from[0];
  if (from.length !== 1 || source === undefined || !isRepositoryName(source)) {
    return deny('invalid from repository');
  }
  if (mount.length > 1 || mount.some((digest) => !DIGEST_RE.test(digest)))
    return deny('invalid mount digest');
  return { ok: true, access: [push, { action: 'pull', repository: source }] };
}

// Go's Request.ParseForm reads the body only for these methods (net/http, request.go parsePostForm).
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Why the registry could read request parameters from the body, or undefined when it cannot.
 *
 * distribution reads `mount`, `from`, `digest` and `_state` with Go's Request.FormValue, which parses the
 * body of a POST, PUT or PATCH whose media type is `application/x-www-form-urlencoded` or
 * `multipart/form-data` and prefers the body's values to the query's. This service never sees the body,
 * so it cannot check a `from` sent there: such a request is refused, whatever its route. The media type
 * is found as Go's mime.ParseMediaType finds it (up to the first `;`, trimmed, case-folded; invalid
 * parameters do not stop Go from using it). What cannot be classified exactly like Go would is refused
 * too: bytes outside visible ASCII (Go folds case over Unicode) and a comma (several header lines joined
 * by a proxy, of which Go reads the first). No registry client sends a form; clients send no content type
 * or `application/octet-stream` for blobs, and a manifest's media type for manifests.
 */
export function bodyParameters(method: string, contentType: string | undefined): string | undefined {
  if (contentType === undefined || !BODY_METHODS.has(method)) return undefined;
  if (!/^[\t\x20-\x7e]*$/.test(contentType)) return 'content type outside visible ASCII';
  if (contentType.includes(',')) return 'more than one content type';
  const media = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  if (media === 'application/x-www-form-urlencoded') return 'form body';
  if (media.startsWith('multipart/')) return 'multipart body';
  return undefined;
}
