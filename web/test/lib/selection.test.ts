import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extentOf, selectedAmong, toggleAll, toggleName } from '../../src/lib/selection.js';

const listed = ['a.txt', 'b.txt', 'c.txt'];

describe('selection', () => {
  it('toggles one row, in list order', () => {
    let selected: ReadonlySet<string> = new Set();
    selected = toggleName(selected, listed, 'c.txt');
    selected = toggleName(selected, listed, 'a.txt');
    assert.deepEqual(selectedAmong(selected, listed), ['a.txt', 'c.txt']);
    selected = toggleName(selected, listed, 'a.txt');
    assert.deepEqual(selectedAmong(selected, listed), ['c.txt']);
  });

  it('only counts rows on screen: a hidden or deleted row is no longer selected', () => {
    const selected = new Set(['a.txt', 'gone.txt']);
    assert.deepEqual(selectedAmong(selected, listed), ['a.txt']);
    assert.deepEqual([...toggleName(selected, listed, 'b.txt')], ['a.txt', 'b.txt']);
    assert.deepEqual([...toggleName(new Set(), listed, 'not-listed.txt')], []);
  });

  it('says none, some or all for the header checkbox, which selects all then none', () => {
    assert.equal(extentOf(new Set(), listed), 'none');
    assert.equal(extentOf(new Set(['b.txt']), listed), 'some');
    const all = toggleAll(new Set(['b.txt']), listed);
    assert.equal(extentOf(all, listed), 'all');
    assert.equal(extentOf(toggleAll(all, listed), listed), 'none');
    assert.equal(extentOf(new Set(['x']), []), 'none');
  });
});
