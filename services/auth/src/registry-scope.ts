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

// distribution/reference: path-component, joined by '/', whole name at most 255 characters.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const NAME = `${COMPONENT}(?:/${COMPONENT})*`;
const NAME_RE = new RegExp(`^${NAME}$`);
const MAX_NAME_LENGTH = 255;
// A tag (reference.TagRegexp) or a digest (digest.DigestRegexp).
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
// Upload session ids are opaque to clients; distribution issues UUIDs, we allow the same alphabet.
const UPLOAD_ID = '[A-Za-z0-9_=-]+';

interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Action>>;
}

// Order matters: the upload routes must be tried before `blobs/<digest>`.
const ROUTES: readonly Route[] = [
  { pattern: new RegExp(`^/v2/(${NAME})/tags/list$`), methods: { GET: 'pull', HEAD: 'pull' } },
  {
    pattern: new RegExp(`^/v2/(${NAME})/manifests/(?:${TAG}|${DIGEST})$`),
    methods: { GET: 'pull', HEAD: 'pull', PUT: 'push', DELETE: 'delete' },
  },
  { pattern: new RegExp(`^/v2/(${NAME})/blobs/uploads/$`), methods: { POST: 'push' } },
  {
    // GET is the upload's status; DELETE cancels the upload, which is part of pushing.
    pattern: new RegExp(`^/v2/(${NAME})/blobs/uploads/${UPLOAD_ID}$`),
    methods: { GET: 'push', PATCH: 'push', PUT: 'push', DELETE: 'push' },
  },
  {
    pattern: new RegExp(`^/v2/(${NAME})/blobs/${DIGEST}$`),
    methods: { GET: 'pull', HEAD: 'pull', DELETE: 'delete' },
  },
  { pattern: new RegExp(`^/v2/(${NAME})/referrers/${DIGEST}$`), methods: { GET: 'pull', HEAD: 'pull' } },
];

function deny(why: string, denial: ScopeDenial = 'invalid_request'): ScopeResult {
  return { ok: false, why, denial };
}

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name);
}

/**
 * `uri` is the raw request target as nginx saw it (`$request_uri`): path and query, never decoded.
 * Anything that is not exactly a registry route is denied: percent-encoding and dot segments in the path
 * are refused outright rather than normalised, so the name we authorize is the name the registry serves.
 * `contentType` is the request's Content-Type header as the proxy forwards it (absent: none was sent).
 */
export function requiredAccess(method: string, uri: string, contentType?: string): ScopeResult {
  const hidden = bodyParameters(method, contentType);
  if (hidden !== undefined) return deny(hidden, 'form_body');
  const q = uri.indexOf('?');
  const path = q === -1 ? uri : uri.slice(0, q);
  const query = q === -1 ? '' : uri.slice(q + 1);

  if (!path.startsWith('/v2/')) return deny('not under /v2/');
  if (path.includes('%')) return deny('percent-encoded path');
  if (/(?:^|\/)\.{1,2}(?:\/|$)/.test(path)) return deny('dot segment in path');

  if (path === '/v2/') {
    return method === 'GET' || method === 'HEAD'
      ? { ok: true, access: [{ action: 'login' }] }
      : deny('method');
  }
  if (path === '/v2/_catalog') {
    return method === 'GET' ? { ok: true, access: [{ action: 'catalog' }] } : deny('method');
  }

  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const repository = match[1] ?? '';
    if (repository.length > MAX_NAME_LENGTH) return deny('repository name too long');
    const action = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (action === undefined) return deny('method not allowed on this route');
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
