// Tables for the stack benchmark: medians over interleaved rounds, and throughput ratios per round (each
// ratio compares runs seconds apart, so slow drift of the shared machine cancels out).
import type { LoadResult } from './load.ts';
import type { Variant } from './nginx-variants.ts';
import { VARIANTS } from './nginx-variants.ts';

export const LABELS: Readonly<Record<Variant, string>> = {
  none: 'no auth',
  bcrypt: 'auth_basic bcrypt',
  sidecar: 'sidecar (cached)',
  floor: 'node:http 200',
};

/**
 * Targets: the sidecar costs ≤ 10 % of throughput and is ≥ 2× nginx's own bcrypt check; and, since the
 * subrequest itself costs more than 10 % on this machine, it is within 5 % of the `node:http` 200 floor
 * (the same auth_request path answered by a server that checks nothing).
 */
export const TARGETS = { sidecarVsNone: 0.9, sidecarVsBcrypt: 2, sidecarVsFloor: 0.95 } as const;

/** Results of one endpoint: per variant, one entry per round. */
export type EndpointResults = Record<Variant, LoadResult[]>;

export const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

/** Median over rounds of `a[i].rps / b[i].rps`. */
export function ratio(a: readonly LoadResult[], b: readonly LoadResult[]): number {
  return median(a.map((r, i) => r.rps / (b[i]?.rps ?? NaN)));
}

export const verdict = (value: number, target: number): string => (value >= target ? 'met' : 'MISSED');

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)),
    [],
  );
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function throughputTable(results: ReadonlyMap<string, EndpointResults>): string {
  const header = ['endpoint', ...VARIANTS.flatMap((v) => [`${LABELS[v]} req/s`, 'p99 ms'])];
  const rows = [...results].map(([endpoint, byVariant]) => [
    endpoint,
    ...VARIANTS.flatMap((v) => [
      median(byVariant[v].map((r) => r.rps)).toFixed(0),
      median(byVariant[v].map((r) => r.p99ms)).toFixed(2),
    ]),
  ]);
  return table([header, ...rows]);
}

export function ratioTable(results: ReadonlyMap<string, EndpointResults>): string {
  const header = [
    'endpoint',
    'bcrypt / no auth',
    `sidecar / no auth (target ≥ ${TARGETS.sidecarVsNone.toFixed(2)})`,
    `sidecar / bcrypt (target ≥ ${TARGETS.sidecarVsBcrypt.toFixed(1)})`,
    'node:http 200 / no auth',
    `sidecar / node:http 200 (target ≥ ${TARGETS.sidecarVsFloor.toFixed(2)})`,
  ];
  const rows = [...results].map(([endpoint, r]) => {
    const vsNone = ratio(r.sidecar, r.none);
    const vsBcrypt = ratio(r.sidecar, r.bcrypt);
    const vsFloor = ratio(r.sidecar, r.floor);
    return [
      endpoint,
      ratio(r.bcrypt, r.none).toFixed(2),
      `${vsNone.toFixed(2)} ${verdict(vsNone, TARGETS.sidecarVsNone)}`,
      `${vsBcrypt.toFixed(2)} ${verdict(vsBcrypt, TARGETS.sidecarVsBcrypt)}`,
      ratio(r.floor, r.none).toFixed(2),
      `${vsFloor.toFixed(2)} ${verdict(vsFloor, TARGETS.sidecarVsFloor)}`,
    ];
  });
  return table([header, ...rows]);
}

export function roundLine(endpoint: string, round: number, byVariant: Partial<Record<Variant, LoadResult>>) {
  const cells = VARIANTS.flatMap((v) => {
    const r = byVariant[v];
    if (!r) return [];
    const bad = r.non2xx + r.errors > 0 ? ` [non-2xx ${r.non2xx}, errors ${r.errors}]` : '';
    return [`${LABELS[v]} ${r.rps.toFixed(0)}/s p99 ${r.p99ms.toFixed(2)} ms${bad}`];
  });
  return `round ${round} ${endpoint.padEnd(14)} ${cells.join(' · ')}`;
}
