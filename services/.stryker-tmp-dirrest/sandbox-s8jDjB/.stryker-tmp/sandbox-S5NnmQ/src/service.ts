// @ts-nocheck
// 
// Wires one service from a Config: cache, lockout, policy, metrics and a directory. main.ts adds the
// listeners and signals; tests build the same thing with a fake directory.
import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import { createAuthListener, createMetricsApp } from './app.ts';
import type { Config } from './config.ts';
import { DecisionCache } from './decision-cache.ts';
import { Decider } from './decider.ts';
import type { Directory, DirectoryObserver } from './directory/directory.ts';
import { LdapDirectory } from './directory/ldap-directory.ts';
import { normalizeLogin } from './directory/presets.ts';
import { Lockout } from './lockout.ts';
import { startTokenAuthenticator } from './oidc/token-authenticator.ts';
import type { Loggers } from './logger.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import { Policy, rulesFromConfig } from './policy.ts';
import { VERSION } from './version.ts';

export interface Service {
  /** The decision port's request listener (for http.createServer). */
  readonly authListener: RequestListener;
  readonly metricsApp: Express;
  readonly directory: Directory;
  readonly metrics: Metrics;
}

export function createService(
  config: Config,
  loggers: Loggers,
  makeDirectory: (observer: DirectoryObserver) => Directory = (observer) =>
    new LdapDirectory(config.ldap, observer),
): Service {
  const cache = new DecisionCache(config.cache);
  const metrics = createMetrics(() => cache.size, VERSION);
  const { logger } = loggers;
  const seenDown = new Set<string>(); // servers reported down, so "answering again" is news
  const directory = makeDirectory({
    operation: (operation, outcome, seconds) => {
      metrics.operation(operation, outcome, seconds);
    },
    serverState: (event) => {
      metrics.serverState(event);
      // The start-up report of every server as up is the metric's initial value, not news.
      if (event.error === undefined && event.up && !seenDown.has(event.server)) return;
      if (event.up) {
        seenDown.delete(event.server);
        logger.info({ server: event.server }, 'LDAP server is answering again');
      } else {
        seenDown.add(event.server);
        logger.warn(
          { server: event.server, error: event.error, failover: event.failover ?? null },
          event.failover === undefined
            ? 'LDAP server failed and no other is up: decisions fail fast (503) until one answers a probe'
            : `LDAP server failed: ${event.failover} takes over; the failed one is probed again every few seconds`,
        );
      }
    },
    notice: (level, message, fields) => {
      logger[level](fields ?? {}, message);
    },
  });
  const lockout = new Lockout({
    ...config.lockout,
    onLock: (event) => {
      metrics.lockouts.inc({ key: event.kind });
      // One line when a lock starts; the audit line of each refusal then says which key is locked.
      logger.warn(
        {
          lock: event.kind,
          ...(event.kind === 'user' ? { user: event.subject, against: event.against } : {}),
          ...(event.kind === 'address' ? { client_ip: event.subject } : {}),
          until: new Date(event.until).toISOString(),
        },
        event.kind === 'user'
          ? `lockout started: user ${event.subject}, for ${event.against ?? 'every address'}`
          : `lockout started: client address ${event.subject}`,
      );
    },
  });
  const tokens = startTokenAuthenticator(config, cache, metrics, logger);
  const decider = new Decider({
    directory,
    cache,
    lockout,
    policy: new Policy(rulesFromConfig(config.policy)),
    normalizeLogin: (login) => normalizeLogin(config.ldap.preset, login),
    // User binds each take a connection of their own: a few per pooled search connection.
    maxConcurrentVerifications: 4 * config.ldap.poolSize,
    tokens,
    // Enough for a burst of cold logins; past it an outage answers at once instead of queueing.
    maxQueuedVerifications: 16 * config.ldap.poolSize,
    decisionTimeoutMs: config.decisionTimeoutMs,
  });
  const deps = { config, decider, directory, metrics, loggers };
  return {
    authListener: createAuthListener(deps).listener,
    metricsApp: createMetricsApp(deps),
    directory,
    metrics,
  };
}
