import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileEntry } from 'gateway/api';
import { uniqueByName } from '../../src/lib/unique-files.js';

const at = '2026-01-01T00:00:00.000Z';

describe('uniqueByName', () => {
  it('keeps the first row of each name, in order', () => {
    const rows: FileEntry[] = [
      { name: 'b.txt', size: 1, modified: at },
      { name: 'a.txt', size: 2, modified: at },
      { name: 'b.txt', size: 3, modified: at },
      { name: 'a.txt', size: 2, modified: at },
    ];
    assert.deepEqual(uniqueByName(rows), [rows[0], rows[1]]);
  });

  it('treats names that differ only in case or normalisation as different files, as the server does', () => {
    const rows: FileEntry[] = [
      { name: 'A.txt', size: 1, modified: at },
      { name: 'a.txt', size: 1, modified: at },
      { name: 'caf\u00e9', size: 1, modified: at },
      { name: 'cafe\u0301', size: 1, modified: at },
    ];
    assert.deepEqual(uniqueByName(rows), rows);
  });

  it('leaves a listing without repeats as it was', () => {
    assert.deepEqual(uniqueByName([]), []);
  });
});
