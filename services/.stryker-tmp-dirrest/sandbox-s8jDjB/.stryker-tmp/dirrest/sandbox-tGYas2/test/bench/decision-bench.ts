// @ts-nocheck
// 
// Decisions per second answered from the cache, sidecar alone, as a ratio to a bare node:http server
// answering 200 on the same machine. Rounds interleave the two, each round in the other order, so drift
// hits both alike; the figure is the median of the rounds' ratios.
// Usage: node test/bench/decision-bench.ts [--seconds 5] [--rounds 5] [--connections 32]
import { parseArgs } from 'node:util';
import { run } from '@registry-ldap-auth/stack/process';
import { startHttp200 } from '@registry-ldap-auth/stack/http-200';
import { basic } from '@registry-ldap-auth/stack/credentials';
import { decide, startSidecar } from '@registry-ldap-auth/stack/sidecar';
import { seed, startSlapd } from '@registry-ldap-auth/stack/slapd';
import { openldapEnv } from '../support/openldap-env.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
  },
});

interface WrkResult {
  rps: number;
  p99ms: number;
  non2xx: number;
}

async function wrk(url: string, headers: Record<string, string>): Promise<WrkResult> {
  const args = ['-t1', `-c${values.connections}`, `-d${values.seconds}s`, '--latency'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const { stdout } = await run('wrk', [...args, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = { us: 0.001, ms: 1, s: 1000 }[(p99?.[2] ?? 'ms') as 'us' | 'ms' | 's'];
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps, p99ms: Number(p99?.[1] ?? NaN) * unit, non2xx };
}

/**
 * A run, then the page cache written out: a run of the sidecar leaves ~40 MB of audit log that the
 * kernel would otherwise write back during the next run, slowing whichever comes next. (It does not
 * explain every slow round of the bare server on this VM: see README "Benchmarks".)
 */
async function settled<T>(result: Promise<T>): Promise<T> {
  const value = await result;
  await run('sync', []);
  return value;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), 'decision-bench-'));
const slapd = await startSlapd();
// Audit lines go to the log file as in production (stdout); LOG_LEVEL stays at info.
const sidecar = await startSidecar(openldapEnv(slapd), { logDir: dir });
let bare: Awaited<ReturnType<typeof startHttp200>> | undefined;
try {
  bare = await startHttp200('bare node:http', join(dir, 'bare.log'));
  const barePort = bare.port;
  const auth = basic(seed.users.alice.uid, seed.users.alice.password);
  const warm = await decide(sidecar, 'HEAD', `/v2/app/blobs/sha256:${'c'.repeat(64)}`, auth);
  if (warm.status !== 200) throw new Error(`warm-up decision answered ${warm.status}`);
  const headers = {
    Authorization: auth,
    'X-Original-Method': 'HEAD',
    'X-Original-URI': `/v2/app/blobs/sha256:${'c'.repeat(64)}`,
  };

  const sidecarRps: number[] = [];
  const bareRps: number[] = [];
  console.log(
    `node ${process.version}, wrk -t1 -c${values.connections} -d${values.seconds}s, ${values.rounds} interleaved rounds`,
  );
  for (let round = 1; round <= Number(values.rounds); round++) {
    const runBare = () => settled(wrk(`http://127.0.0.1:${barePort}/`, {}));
    const runSidecar = () => settled(wrk(`${sidecar.url}/auth`, headers));
    let b: WrkResult;
    let s: WrkResult;
    if (round % 2 === 1) {
      b = await runBare();
      s = await runSidecar();
    } else {
      s = await runSidecar();
      b = await runBare();
    }
    if (s.non2xx > 0) throw new Error(`the sidecar answered ${s.non2xx} non-2xx responses`);
    bareRps.push(b.rps);
    sidecarRps.push(s.rps);
    console.log(
      `round ${round}: bare node:http ${b.rps.toFixed(0)} req/s (p99 ${b.p99ms.toFixed(2)} ms) · ` +
        `sidecar from cache ${s.rps.toFixed(0)} req/s (p99 ${s.p99ms.toFixed(2)} ms) · ratio ${(s.rps / b.rps).toFixed(2)}`,
    );
  }
  const ratio = median(sidecarRps.map((s, i) => s / (bareRps[i] ?? NaN)));
  console.log(`\nmedian ratio sidecar / bare node:http = ${ratio.toFixed(2)} (target ≥ 0.5)`);
  const metrics = await (await fetch(`${sidecar.metricsUrl}/metrics`)).text();
  const p =
    /registry_auth_decision_duration_seconds_sum\{source="cache"\} ([\d.e-]+)\n.*_count\{source="cache"\} (\d+)/.exec(
      metrics,
    );
  if (p)
    console.log(
      `mean in-process decision time from cache: ${((Number(p[1]) / Number(p[2])) * 1e6).toFixed(1)} µs`,
    );
} finally {
  await bare?.stop();
  await sidecar.stop();
  await slapd.destroy();
}
