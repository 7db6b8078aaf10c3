// A real OIDC issuer for tests, the way GitLab and GitHub Actions publish theirs: HTTPS on loopback with a
// certificate from a CA made for the run, a discovery document and a JWKS, and signing keys generated here.
// It signs GitLab-shaped and GitHub-shaped job tokens, and the forgeries the sidecar must refuse.
import { createHmac, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { createCa, issueServerCert } from './certs.ts';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** SPKI PEM of the public key: what an attacker would use as an HMAC secret. */
  readonly publicPem: string;
}

/**
 * What the issuer answers instead of one of its documents, to show how the sidecar takes an issuer that
 * misbehaves: any status, headers and body; `hang` accepts the request and never answers; `cut` sends the
 * headers and part of a body, then drops the connection; `endless` streams a body until the client hangs up.
 */
export type IssuerAnswer =
  | { readonly status?: number; readonly headers?: Record<string, string>; readonly body: string }
  | 'hang'
  | 'cut'
  | 'endless';

export interface OidcIssuer {
  /** `https://127.0.0.1:PORT`: the `iss` of its tokens. */
  readonly url: string;
  /** Path of the PEM of the CA that signed its certificate (the rules file's `ca_file`). */
  readonly caFile: string;
  /** That CA certificate's PEM. */
  readonly caPem: string;
  /** Request paths served so far (discovery and JWKS fetches), oldest first. */
  readonly requests: readonly string[];
  /** Generates a key pair and publishes it in the JWKS (a rotation when another key is already there). */
  addKey(options?: { kid?: string; alg?: 'RS256' | 'ES256'; publish?: boolean }): Promise<SigningKey>;
  /** Takes a key out of the JWKS. */
  retireKey(kid: string): void;
  /** Signs `claims` with `key` (default: the first key) as a compact JWS. */
  sign(claims: JWTPayload, key?: SigningKey): Promise<string>;
  /** Answers `document` with `answer` from now on; `undefined` restores the real document. */
  misbehave(document: 'discovery' | 'jwks', answer: IssuerAnswer | undefined): void;
  /** Connections the client closed while `endless` was streaming to them. */
  readonly hangUps: number;
  /** Stops answering (connections refused) / answers again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Where the issuer publishes its JWKS (GitLab's path). */
export const JWKS_PATH = '/oauth/discovery/keys';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`: header and claims, empty signature (RFC 7519 §6.1). */
export function unsignedToken(claims: JWTPayload): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** The key-confusion forgery: HS256 with the issuer's public key (PEM) as the HMAC secret. */
export function hmacWithPublicKey(claims: JWTPayload, key: SigningKey): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', key.publicPem).update(input).digest('base64url')}`;
}

/** Seconds since the epoch, as JWT dates are written. */
export const epoch = (ms = Date.now()): number => Math.floor(ms / 1000);

export interface JobTiming {
  /** Milliseconds since the epoch; default now. */
  readonly now?: number;
  /** Default 3600 s (GitLab's default job timeout). */
  readonly lifetimeSeconds?: number;
}

function times({ now = Date.now(), lifetimeSeconds = 3600 }: JobTiming): JWTPayload {
  const iat = epoch(now);
  return { iat, nbf: iat - 5, exp: iat + lifetimeSeconds, jti: randomUUID() };
}

/** The claims of a GitLab CI `id_tokens` token (GitLab 16+), for a branch pipeline or a merge request. */
export function gitlabJob(
  issuer: string,
  audience: string,
  job: { project: string; branch: string; protected: boolean; mergeRequest?: number } & JobTiming,
): JWTPayload {
  const namespace = job.project.slice(0, job.project.lastIndexOf('/'));
  const refPath =
    job.mergeRequest === undefined
      ? `refs/heads/${job.branch}`
      : `refs/merge-requests/${job.mergeRequest}/head`;
  return {
    ...times(job),
    iss: issuer,
    aud: audience,
    sub: `project_path:${job.project}:ref_type:branch:ref:${job.branch}`,
    namespace_id: '42',
    namespace_path: namespace,
    project_id: '4711',
    project_path: job.project,
    user_id: '7',
    user_login: 'jdoe',
    user_email: 'jdoe@example.test',
    pipeline_id: '1001',
    pipeline_source: job.mergeRequest === undefined ? 'push' : 'merge_request_event',
    job_id: '2002',
    ref: job.branch,
    ref_type: 'branch',
    ref_path: refPath,
    ref_protected: String(job.protected),
    runner_id: 3,
    runner_environment: 'self-hosted',
    sha: 'a'.repeat(40),
    project_visibility: 'internal',
  };
}

/** The claims of a GitHub Actions OIDC token (`permissions: id-token: write`). */
export function githubJob(
  issuer: string,
  audience: string,
  job: { repository: string; ref: string; event?: string } & JobTiming,
): JWTPayload {
  const owner = job.repository.slice(0, job.repository.indexOf('/'));
  return {
    ...times(job),
    iss: issuer,
    aud: audience,
    sub: `repo:${job.repository}:ref:${job.ref}`,
    ref: job.ref,
    ref_type: 'branch',
    ref_protected: 'true',
    sha: 'b'.repeat(40),
    repository: job.repository,
    repository_owner: owner,
    repository_id: '123456',
    repository_owner_id: '654321',
    repository_visibility: 'private',
    run_id: '99',
    run_number: '12',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '1',
    workflow: 'CI',
    workflow_ref: `${job.repository}/.github/workflows/ci.yml@${job.ref}`,
    job_workflow_ref: `${job.repository}/.github/workflows/ci.yml@${job.ref}`,
    event_name: job.event ?? 'push',
    head_ref: '',
    base_ref: '',
    runner_environment: 'github-hosted',
  };
}

/** Starts the issuer on 127.0.0.1 (a free port) with one RS256 key; its CA and certificate go under `dir`. */
export async function startOidcIssuer(dir: string): Promise<OidcIssuer> {
  const pki = await createCa(join(dir, 'issuer-ca'), 'test OIDC issuer CA');
  const tls = await issueServerCert(pki, 'issuer', { ips: ['127.0.0.1'], dns: ['localhost'] });
  const keys: SigningKey[] = [];
  const published = new Set<string>();
  const requests: string[] = [];
  const misbehaving = new Map<'discovery' | 'jwks', IssuerAnswer>();
  let hangUps = 0;
  let url = '';

  const answer = (res: ServerResponse, how: IssuerAnswer): void => {
    if (how === 'hang') return;
    if (how === 'cut') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"keys": [', () => res.destroy());
      return;
    }
    if (how === 'endless') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = `{"keys": [${' '.repeat(16 * 1024)}`;
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', more).on('close', () => hangUps++);
      more();
      return;
    }
    res.writeHead(how.status ?? 200, { 'Content-Type': 'application/json', ...how.headers }).end(how.body);
  };

  const server: Server = createServer(
    { cert: await readFile(tls.cert), key: await readFile(tls.key) },
    (req, res) => {
      const path = req.url ?? '';
      requests.push(path);
      const json = (body: unknown): void => {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      };
      const document =
        path === '/.well-known/openid-configuration' ? 'discovery' : path === JWKS_PATH ? 'jwks' : undefined;
      const instead = document === undefined ? undefined : misbehaving.get(document);
      if (instead !== undefined) {
        answer(res, instead);
      } else if (document === 'discovery') {
        json({
          issuer: url,
          jwks_uri: `${url}${JWKS_PATH}`,
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        });
      } else if (document === 'jwks') {
        json({ keys: keys.filter((k) => published.has(k.kid)).map((k) => k.publicJwk) });
      } else {
        res.writeHead(404).end();
      }
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  url = `https://127.0.0.1:${port}`;

  const addKey: OidcIssuer['addKey'] = async (options = {}) => {
    const alg = options.alg ?? 'RS256';
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const kid = options.kid ?? randomUUID();
    const key: SigningKey = {
      kid,
      alg,
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
      publicPem: await exportSPKI(publicKey),
    };
    keys.push(key);
    if (options.publish ?? true) published.add(kid);
    return key;
  };
  await addKey({ kid: 'key-1' });

  let listening = true;
  const close = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return {
    url,
    caFile: pki.caCert,
    caPem: await readFile(pki.caCert, 'utf8'),
    requests,
    addKey,
    retireKey: (kid) => published.delete(kid),
    misbehave(document, how) {
      if (how === undefined) misbehaving.delete(document);
      else misbehaving.set(document, how);
    },
    get hangUps() {
      return hangUps;
    },
    async sign(claims, key = keys[0]) {
      if (key === undefined) throw new Error('no signing key');
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    down: close,
    async up() {
      if (listening) return;
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    },
    stop: close,
  };
}
