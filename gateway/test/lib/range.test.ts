import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from '../../src/lib/range.js';

test('single ranges of every form', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=95-200', 100), { kind: 'partial', start: 95, end: 99 });
  assert.deepEqual(parseRange(' bytes = 1 - 2 ', 100), { kind: 'partial', start: 1, end: 2 });
});

test('ranges with no byte in the file are unsatisfiable', () => {
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=100-200', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
});

test('no header, several ranges and malformed headers mean the whole file', () => {
  for (const header of [undefined, 'bytes=0-1,3-4', 'bytes=5-2', 'bytes=-', 'bytes=a-b', 'items=0-1', 'bytes=99999999999999999999-']) {
    assert.deepEqual(parseRange(header, 100), { kind: 'full' }, String(header));
  }
});
