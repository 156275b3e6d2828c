import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareByName, formatFileRow, parseFileRow, type FileEntry } from '../../src/protocol/file-row.js';

const entry: FileEntry = { name: 'my clip.mp4', size: 1048576, modified: '2026-11-25T08:44:03.123Z' };

describe('file rows', () => {
  it('formats name TAB size TAB modified', () => {
    assert.equal(formatFileRow(entry), 'my clip.mp4\t1048576\t2026-11-25T08:44:03.123Z');
  });

  it('parses what it formats', () => {
    assert.deepEqual(parseFileRow(formatFileRow(entry)), entry);
    const modified = new Date(0).toISOString();
    assert.deepEqual(parseFileRow(`été 🎬\t0\t${modified}`), { name: 'été 🎬', size: 0, modified });
  });

  it('refuses malformed rows', () => {
    for (const row of [
      'a.txt\t10',
      'a.txt\t10\t2026-11-25T08:44:03.123Z\textra',
      '\t10\t2026-11-25T08:44:03.123Z',
      '.hidden\t10\t2026-11-25T08:44:03.123Z',
      'a.txt\t-1\t2026-11-25T08:44:03.123Z',
      'a.txt\tten\t2026-11-25T08:44:03.123Z',
      'a.txt\t10\t2026-11-25',
      'a.txt\t10\t2026-11-25T08:44:03Z',
      'a.txt\t10\t2026-11-25T08:44:03.123+01:00',
    ])
      assert.equal(parseFileRow(row), undefined, JSON.stringify(row));
  });

  it('sorts by name, by code point', () => {
    const names = ['b', 'B', 'a', 'é', 'Z', 'a b', 'a.b', '10', '9'];
    const sorted = names.map((name) => ({ ...entry, name })).sort(compareByName).map((e) => e.name);
    assert.deepEqual(sorted, ['10', '9', 'B', 'Z', 'a', 'a b', 'a.b', 'b', 'é']);
  });

  it('sorts characters above U+FFFF after the rest of the BMP, as code points do', () => {
    // U+1F600 is a surrogate pair in UTF-16, whose first unit (U+D83D) is below U+FF21.
    const names = ['😀y', 'Ａx', 'a', '\uFFFD'];
    const sorted = names.map((name) => ({ ...entry, name })).sort(compareByName).map((e) => e.name);
    assert.deepEqual(sorted, ['a', 'Ａx', '\uFFFD', '😀y']);
    assert.deepEqual(sorted, [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });
});
