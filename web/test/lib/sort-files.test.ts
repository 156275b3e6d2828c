import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileEntry } from 'gateway/api';
import { defaultDirection, sortFiles } from '../../src/lib/sort-files.js';

const files: FileEntry[] = [
  { name: 'file10.txt', size: 5, modified: '2026-01-03T00:00:00.000Z' },
  { name: 'File2.txt', size: 500, modified: '2026-01-01T00:00:00.000Z' },
  { name: 'a.bin', size: 5, modified: '2026-01-02T00:00:00.000Z' },
];

const names = (list: FileEntry[]) => list.map((file) => file.name);

describe('sortFiles', () => {
  it('sorts names naturally and case-insensitively', () => {
    assert.deepEqual(names(sortFiles(files, 'name', 'ascending')), ['a.bin', 'File2.txt', 'file10.txt']);
  });

  it('sorts by size and date, ties broken by name', () => {
    assert.deepEqual(names(sortFiles(files, 'size', 'descending')), ['File2.txt', 'a.bin', 'file10.txt']);
    assert.deepEqual(names(sortFiles(files, 'modified', 'ascending')), ['File2.txt', 'a.bin', 'file10.txt']);
  });

  it('leaves its input alone', () => {
    const before = names(files);
    sortFiles(files, 'size', 'ascending');
    assert.deepEqual(names(files), before);
  });

  it('starts names A→Z and sizes/dates largest/newest first', () => {
    assert.equal(defaultDirection('name'), 'ascending');
    assert.equal(defaultDirection('modified'), 'descending');
  });
});
