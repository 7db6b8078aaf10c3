// The two HTTP apps: the decision endpoint nginx calls, and the operator's /metrics /healthz /readyz.
// createApp builds them and never listens; main.ts does.
import { performance } from 'node:perf_hooks';
import express from 'express';
import type { Express, Request, Response } from 'express';
import helmet from 'helmet';
import type { Config } from './config.ts';
import type { Decider, Decision } from './decider.ts';
import type { Directory } from './directory/directory.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { REASONS, isChallenge } from './reasons.ts';
import { createAddressResolver } from './client-address.ts';

export interface AppDependencies {
  readonly config: Pick<Config, 'realm' | 'trustedProxies'>;
  readonly decider: Decider;
  readonly directory: Pick<Directory, 'checkHealth'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** Header values must be visible ASCII: anything else (and the list separator) is percent-encoded. */
export function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !/[,%]/.test(value)
    ? value
    : value.replace(/[^\x20-\x7e]|[,%]/gu, (c) => encodeURIComponent(c));
}

/** The raw path and query: X-Original-URI as nginx sends it, or the path of ingress-nginx's X-Original-URL. */
export function originalUri(req: Request): string | undefined {
  const uri = req.headers['x-original-uri'];
  if (typeof uri === 'string') return uri;
  const url = req.headers['x-original-url'];
  if (typeof url !== 'string') return undefined;
  if (url.startsWith('/')) return url;
  // Not `new URL()`: it would resolve dot segments and re-encode, and we authorize the raw path.
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(url);
  return match === null ? undefined : match[1] || '/';
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function createApp(deps: AppDependencies): { authApp: Express; metricsApp: Express } {
  const { config, decider, metrics, logger } = deps;
  const clientAddress = createAddressResolver(config.trustedProxies);
  const challenge = `Basic realm="${config.realm}", charset="UTF-8"`;

  const audit = (req: Request, decision: Decision, seconds: number, clientIp: string): void => {
    const { result } = REASONS[decision.reason];
    const [primary] = decision.access ?? [];
    const action = primary?.action ?? 'none';
    metrics.decisions.inc({ action, result });
    if (result !== 'allow') metrics.rejections.inc({ reason: decision.reason });
    metrics.decisionDuration.observe({ source: decision.source }, seconds);
    if (decision.source === 'cache' || decision.source === 'stale') metrics.cacheHits.inc();
    else if (decision.source === 'directory') metrics.cacheMisses.inc();
    const fields = {
      user: decision.identity?.username ?? decision.login?.slice(0, 256),
      action,
      repository: primary?.repository,
      method: header(req, 'x-original-method'),
      result,
      reason: decision.reason,
      source: decision.source,
      duration_ms: Math.round(seconds * 1e6) / 1e3,
      client_ip: clientIp,
      ...(decision.error === undefined ? {} : { error: decision.error }),
    };
    if (result === 'error') logger.error(fields, 'decision');
    else logger.info(fields, 'decision');
  };

  const authApp = express();
  authApp.disable('x-powered-by');
  authApp.set('etag', false);
  authApp.use(helmet());
  authApp.all('/auth', async (req: Request, res: Response) => {
    const start = performance.now();
    const clientIp = clientAddress(req);
    let decision: Decision;
    try {
      decision = await decider.decide({
        authorization: req.headers.authorization,
        method: header(req, 'x-original-method'),
        uri: originalUri(req),
        clientIp,
      });
    } catch (error) {
      logger.error({ err: error }, 'decision failed unexpectedly');
      decision = { reason: 'internal_error', source: 'none' };
    }
    const { status } = REASONS[decision.reason];
    res.status(status).set('Cache-Control', 'no-store');
    if (isChallenge(decision.reason)) res.set('WWW-Authenticate', challenge);
    if (status === 200 && decision.identity !== undefined) {
      res.set('X-Auth-User', headerValue(decision.identity.username));
      res.set('X-Auth-Groups', decision.identity.groups.map((g) => headerValue(g.name)).join(','));
    }
    res.end();
    audit(req, decision, (performance.now() - start) / 1000, clientIp);
  });
  authApp.use((_req: Request, res: Response) => {
    res.status(404).end();
  });

  const metricsApp = express();
  metricsApp.disable('x-powered-by');
  metricsApp.use(helmet());
  metricsApp.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  metricsApp.get('/readyz', async (_req: Request, res: Response) => {
    try {
      await deps.directory.checkHealth();
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ status: 'directory unreachable', error: (error as Error).message });
    }
  });
  metricsApp.get('/metrics', async (_req: Request, res: Response) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return { authApp, metricsApp };
}
