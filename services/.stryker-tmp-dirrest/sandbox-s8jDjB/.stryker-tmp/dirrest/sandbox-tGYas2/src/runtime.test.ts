// @ts-nocheck
// 
import assert from 'node:assert/strict';
import { it } from 'node:test';

it('runs on Node 24 LTS or newer, as the container image does (the `node` devDependency provides it)', () => {
  const major = Number(process.versions.node.split('.')[0]);
  assert.ok(major >= 24, `running on Node ${process.versions.node}`);
});
