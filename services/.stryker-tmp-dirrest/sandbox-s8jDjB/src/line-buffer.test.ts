// @ts-nocheck
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBuffer } from './line-buffer.ts';

function sink() {
  const chunks: string[] = [];
  let synced = 0;
  return {
    chunks,
    synced: () => synced,
    write(chunk: string) {
      chunks.push(chunk);
    },
    flushSync() {
      synced++;
    },
  };
}

describe('LineBuffer', () => {
  it('holds lines until the limit, then hands them over as one chunk, in order', () => {
    const s = sink();
    const b = new LineBuffer(s, 10);
    b.write('abc\n');
    b.write('def\n');
    assert.deepEqual(s.chunks, []);
    b.write('ghi\n');
    assert.deepEqual(s.chunks, ['abc\ndef\nghi\n']);
    b.write('j\n');
    assert.deepEqual(s.chunks, ['abc\ndef\nghi\n']);
  });

  it('flush() hands over what is held and nothing when empty', () => {
    const s = sink();
    const b = new LineBuffer(s);
    b.flush();
    assert.deepEqual(s.chunks, []);
    b.write('one\n');
    b.flush();
    b.flush();
    assert.deepEqual(s.chunks, ['one\n']);
  });

  it('flushSync() hands over what is held and syncs the sink', () => {
    const s = sink();
    const b = new LineBuffer(s);
    b.write('last words\n');
    b.flushSync();
    assert.deepEqual(s.chunks, ['last words\n']);
    assert.equal(s.synced(), 1);
  });
});
