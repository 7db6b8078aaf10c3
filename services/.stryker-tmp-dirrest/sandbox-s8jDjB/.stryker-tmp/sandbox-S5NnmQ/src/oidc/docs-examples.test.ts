// @ts-nocheck
// 
// The rules files shown in the README and docs/oidc.md are valid as printed: an operator copies them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseRulesFile } from './rules-file.ts';

const pages = ['README.md', 'docs/oidc.md'];

function rulesExamples(markdown: string): string[] {
  return [...markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)]
    .map((m) => m[1] ?? '')
    .filter((block) => /^issuers:$/m.test(block));
}

describe('rules files in the docs', () => {
  for (const page of pages) {
    const text = readFileSync(new URL(`../../../../${page}`, import.meta.url), 'utf8');
    const examples = rulesExamples(text);
    it(`${page} shows at least one rules file`, () => {
      assert.ok(examples.length > 0);
    });
    examples.forEach((example, i) => {
      it(`${page}: example ${i + 1} parses without a problem`, () => {
        const { problems, issuers } = parseRulesFile(example, () => ({ certs: ['PEM'] }));
        assert.deepEqual(problems, []);
        assert.ok(issuers.every((issuer) => issuer.rules.length > 0));
      });
    });
  }
});
