// Reads the sidecar's Prometheus text exposition (format 0.0.4) so tests can assert exact counter deltas.

/** Sample values keyed by `name{label="value",…}` with labels sorted by name. */
export type Samples = ReadonlyMap<string, number>;

export function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
}

/** One sample line: name, optional {labels}, value. Label values here never contain `"` or `,`. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;

export function parseMetrics(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`unparsable metrics line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels = Object.fromEntries(
      [...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
    );
    samples.set(seriesKey(name, labels), Number(value));
  }
  return samples;
}

export async function scrape(metricsUrl: string): Promise<Samples> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`${metricsUrl} answered ${res.status}`);
  return parseMetrics(await res.text());
}

/** after − before for every series of `name` that changed, keyed as seriesKey() does. */
export function counterDeltas(before: Samples, after: Samples, name: string): Map<string, number> {
  const deltas = new Map<string, number>();
  for (const [key, value] of after) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) deltas.set(key, delta);
  }
  return deltas;
}
