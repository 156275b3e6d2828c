import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentChanges, type RowHighlight } from '../../src/lib/recent-changes.js';

const T = '2026-11-24T10:00:00.000Z';
const DURATION_MS = 30;

describe('RecentChanges', () => {
  it('marks added and renamed rows, drops a removed one, and lets each mark go after its time', async () => {
    const seen: Array<ReadonlyMap<string, RowHighlight>> = [];
    const recent = new RecentChanges((marks) => seen.push(marks), DURATION_MS);
    recent.note([
      { type: 'added', seq: 1, file: { name: 'a.txt', size: 1, modified: T } },
      { type: 'added', seq: 2, file: { name: 'b.txt', size: 1, modified: T } },
      { type: 'renamed', seq: 3, from: 'b.txt', to: 'c.txt' },
      { type: 'removed', seq: 4, name: 'a.txt' },
    ]);
    assert.deepEqual([...seen.at(-1)!], [['c.txt', 'renamed']]);
    const deadline = Date.now() + 5000;
    while (seen.at(-1)!.size > 0) {
      assert.ok(Date.now() < deadline, 'the mark went by itself');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });

  it('tells nothing for no changes, and clears every mark on request', () => {
    const seen: Array<ReadonlyMap<string, RowHighlight>> = [];
    const recent = new RecentChanges((marks) => seen.push(marks), 60_000);
    recent.note([]);
    assert.equal(seen.length, 0);
    recent.note([{ type: 'added', seq: 1, file: { name: 'a.txt', size: 1, modified: T } }]);
    assert.deepEqual([...seen.at(-1)!], [['a.txt', 'added']]);
    recent.clear();
    assert.equal(seen.at(-1)!.size, 0);
  });
});
