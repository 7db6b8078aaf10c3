// A real Prometheus (Debian's binary) for the monitoring tests and `npm run demo -- --monitoring`: on
// loopback, scraping the sidecar, the project's alert rules loaded, its data in a temp dir, stopped by pid.
// Never the package's own service.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { assertPortFree, freePort, startServer, waitForPort } from './process.ts';
import type { Server } from './process.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
/** The rule file the compose profile, Kubernetes and these tests all load. */
export const ALERTS_FILE = join(REPO_ROOT, 'monitoring', 'alerts.yml');
export const DASHBOARD_FILE = join(REPO_ROOT, 'monitoring', 'dashboards', 'registry-auth.json');
/** The scrape job the up-based alerts select (monitoring/alerts.yml). */
export const SCRAPE_JOB = 'registry-auth';

export interface PrometheusOptions {
  /** `host:port` of each sidecar's metrics listener. */
  readonly targets: readonly string[];
  /** Default 1 s, for tests and the demo; production scrapes every 15-30 s. */
  readonly scrapeIntervalSeconds?: number;
  /** Replaces every alert's `for:` (e.g. `2s`), so a test sees an alert fire without waiting minutes. */
  readonly alertFor?: string;
  /** The UI / API port on 127.0.0.1; default a free port. */
  readonly port?: number;
  /** Where the config, the data and the log go; default a temp dir, removed by stop(). */
  readonly dir?: string;
}

export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface Prometheus {
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  readonly server: Server;
  /** An instant query through the HTTP API; rejects on a query error (a typo in the expression). */
  query(expr: string): Promise<Sample[]>;
  /** GET /api/v1/alerts: pending and firing alerts. */
  alerts(): Promise<ActiveAlert[]>;
  /** Stops the process and removes its temp dir (unless `dir` was given). */
  stop(): Promise<void>;
}

/** The rule file with every `for:` replaced: the same rules, quicker to fire. */
export function renderRules(source: string, alertFor?: string): string {
  if (alertFor === undefined) return source;
  const doc = parse(source) as { groups: { rules: Record<string, unknown>[] }[] };
  for (const group of doc.groups) {
    for (const rule of group.rules) if ('alert' in rule) rule['for'] = alertFor;
  }
  return stringify(doc);
}

export function prometheusConfig(
  targets: readonly string[],
  intervalSeconds: number,
  ruleFile: string,
): string {
  return stringify({
    global: { scrape_interval: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    rule_files: [ruleFile],
    scrape_configs: [{ job_name: SCRAPE_JOB, static_configs: [{ targets: [...targets] }] }],
  });
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'prometheus-')));
  // A fixed port someone else holds (a compose Prometheus on 9091) would answer in our place.
  if (options.port !== undefined) await assertPortFree(options.port);
  const port = options.port ?? (await freePort());
  const interval = options.scrapeIntervalSeconds ?? 1;
  const ruleFile = join(dir, 'alerts.yml');
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(ruleFile, renderRules(await readFile(ALERTS_FILE, 'utf8'), options.alertFor));
  await writeFile(configFile, prometheusConfig(options.targets, interval, ruleFile));
  const logFile = join(dir, 'prometheus.log');
  const server = startServer(
    'prometheus',
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
    ],
    logFile,
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await server.stop();
    if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort('127.0.0.1', port, 20_000, server);
    // Listening comes before the TSDB is open; /-/ready says 200 once queries are served.
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${url}/-/ready`).catch(() => undefined))?.status !== 200) {
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 20 s (log: ${logFile})`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    logFile,
    server,
    async query(expr) {
      const data = await api<{ resultType: string; result: Sample[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.resultType === 'vector' ? data.result : [];
    },
    async alerts() {
      return (await api<{ alerts: ActiveAlert[] }>(`${url}/api/v1/alerts`)).alerts;
    },
    stop,
  };
}
