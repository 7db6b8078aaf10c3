// The parts of a Grafana dashboard JSON the tests read, and the substitution of Grafana's variables that
// turns a panel's query into one Prometheus can evaluate.

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { readonly uid?: string };
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: { readonly uid?: string };
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets: readonly Target[];
  readonly panels?: readonly Panel[];
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly templating: { readonly list: readonly { name: string; type: string; query?: unknown }[] };
  readonly panels: readonly Panel[];
}

/** Every panel that shows data: rows left out, panels inside collapsed rows included. */
export function dashboardPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/**
 * A panel's query as Grafana would send it: `$__rate_interval` and `$__interval` become `window` (at least
 * four scrape intervals, as Grafana computes it), `$__range` the range shown, `$instance` every instance.
 */
export function grafanaToPromql(expr: string, window = '1m', range = '10m'): string {
  return expr
    .replaceAll('$__rate_interval', window)
    .replaceAll('$__interval', window)
    .replaceAll('$__range', range)
    .replaceAll('$instance', '.+');
}
