import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { highlightParts } from '../../src/lib/highlight.js';

describe('highlightParts', () => {
  it('marks every case-insensitive occurrence', () => {
    assert.deepEqual(highlightParts('Report-report.PDF', 'report'), [
      { text: 'Report', match: true },
      { text: '-', match: false },
      { text: 'report', match: true },
      { text: '.PDF', match: false },
    ]);
  });

  it('treats the query as text, not as a pattern', () => {
    assert.deepEqual(highlightParts('a.b(1).txt', '(1)'), [
      { text: 'a.b', match: false },
      { text: '(1)', match: true },
      { text: '.txt', match: false },
    ]);
  });

  it('returns the whole name unmarked for an empty query or no match', () => {
    assert.deepEqual(highlightParts('x.txt', ''), [{ text: 'x.txt', match: false }]);
    assert.deepEqual(highlightParts('x.txt', 'zz'), [{ text: 'x.txt', match: false }]);
  });
});
