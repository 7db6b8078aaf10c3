// @ts-nocheck
// 
// The README's configuration table and docs/interface.md name the same variables and metrics as the code;
// every package carries the version of the newest CHANGELOG entry.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configVariables } from './config.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const interfaceDoc = readFileSync(new URL('../../../docs/interface.md', import.meta.url), 'utf8');
const metricsSource = readFileSync(new URL('./metrics.ts', import.meta.url), 'utf8');
const code = configVariables().filter((name) => !name.endsWith('_PASSWORD_FILE'));
const tableRows = (markdown: string, heading: string): string[] => {
  const section = markdown.slice(markdown.indexOf(heading));
  const table = section.slice(section.search(/^\|\s*variable\s*\|/m));
  const rows: string[] = [];
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(...[...(line.split('|')[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] ?? ''));
  }
  return rows;
};

describe('configuration names in step', () => {
  it('the README table lists exactly the variables the code reads', () => {
    assert.deepEqual(tableRows(readme, '## Configuration').sort(), code);
  });

  it('docs/interface.md names exactly the metrics the code registers', () => {
    const documented = new Set(interfaceDoc.match(/\bregistry_auth_[a-z_]+/g));
    const registered = new Set(metricsSource.match(/\bregistry_auth_[a-z_]+/g));
    assert.deepEqual([...documented].sort(), [...registered].sort());
  });
});

describe('version in step', () => {
  const read = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');
  const newest = /^## \[(\d+\.\d+\.\d+)\]/m.exec(read('CHANGELOG.md'))?.[1];
  for (const manifest of [
    'package.json',
    'services/auth/package.json',
    'stack/package.json',
    'test/package.json',
  ]) {
    it(`${manifest} carries the newest CHANGELOG version`, () => {
      assert.ok(newest, 'CHANGELOG.md has a "## [x.y.z]" heading');
      assert.equal((JSON.parse(read(manifest)) as { version?: string }).version, newest);
    });
  }
});

describe('README contents in step', () => {
  // GitHub's heading anchors: lower case, punctuation other than '-' dropped, spaces to '-'.
  const anchor = (heading: string): string =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} -]/gu, '')
      .replace(/ /g, '-');
  const contents = readme.slice(
    readme.indexOf('## Contents'),
    readme.indexOf('\n## ', readme.indexOf('## Contents') + 1),
  );
  const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '').filter((h) => h !== 'Contents');

  for (const section of sections) {
    it(`the contents link to "## ${section}"`, () => {
      assert.ok(
        contents.includes(`](#${anchor(section)})`),
        `add [${section}](#${anchor(section)}) to ## Contents`,
      );
    });
  }

  it('every link in the contents leads to a heading', () => {
    const anchors = new Set([...readme.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1] ?? '')));
    for (const [, target] of contents.matchAll(/\]\(#([^)]+)\)/g)) {
      assert.ok(anchors.has(target ?? ''), `#${target ?? ''} names no heading`);
    }
  });

  it('the contents link every page in docs/', () => {
    const docs = readdirSync(new URL('../../../docs/', import.meta.url)).filter((f) => f.endsWith('.md'));
    for (const doc of docs)
      assert.ok(contents.includes(`(docs/${doc})`), `link docs/${doc} from ## Contents`);
  });
});
