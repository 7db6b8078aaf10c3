// @ts-nocheck
// `npm run mutation:summary`: the score per module and overall, and every mutant that lived, from the
// Stryker JSON reports in reports/mutation/ (one whole run, or runs over parts of src: MUTATION_REPORT).
// Where two reports hold the same module, the newer report counts. Score as Stryker computes it:
// detected (killed, timed out) over detected + undetected (survived, no coverage); errors left out.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface Mutant {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report {
  readonly files: Record<string, { readonly mutants: readonly Mutant[] }>;
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: 'reports/mutation' },
    'no-survivors': { type: 'boolean', default: false },
  },
});
const dir = values.dir;
const reports = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => join(dir, name))
  .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs); // oldest first: newer reports overwrite

const modules = new Map<string, { report: string; mutants: readonly Mutant[] }>();
for (const path of reports) {
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  for (const [file, { mutants }] of Object.entries(report.files)) {
    modules.set(relative(process.cwd(), file) || file, { report: path, mutants });
  }
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const count = (mutants: readonly Mutant[], statuses: Set<string>) =>
  mutants.filter((m) => statuses.has(m.status)).length;
const score = (detected: number, undetected: number) =>
  detected + undetected === 0 ? 'n/a' : `${((100 * detected) / (detected + undetected)).toFixed(1)} %`;

const rows = [...modules.entries()].sort(([a], [b]) => a.localeCompare(b));
let detected = 0;
let undetected = 0;
let total = 0;
console.log('| module | mutants | killed | timeout | survived | no coverage | errors | score |');
console.log('| --- | --: | --: | --: | --: | --: | --: | --: |');
for (const [file, { mutants }] of rows) {
  const d = count(mutants, DETECTED);
  const u = count(mutants, UNDETECTED);
  const by = (status: string) => mutants.filter((m) => m.status === status).length;
  const errors = mutants.length - d - u - by('Ignored');
  console.log(
    `| \`${file}\` | ${mutants.length} | ${by('Killed')} | ${by('Timeout')} | ${by('Survived')} | ` +
      `${by('NoCoverage')} | ${errors} | ${score(d, u)} |`,
  );
  detected += d;
  undetected += u;
  total += mutants.length;
}
console.log(`| **all ${rows.length} modules** | ${total} | | | | | | **${score(detected, undetected)}** |`);
console.log(`\nfrom ${reports.length} report(s): ${reports.join(', ')}`);

if (!values['no-survivors']) {
  console.log('\nUndetected mutants (file:line:column mutator → replacement):');
  for (const [file, { mutants }] of rows) {
    for (const m of mutants.filter((x) => UNDETECTED.has(x.status))) {
      const { line, column } = m.location.start;
      const replacement = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
      console.log(`${file}:${line}:${column} ${m.status} ${m.mutatorName} → ${replacement}`);
    }
  }
}
