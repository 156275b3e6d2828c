import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NameLookup } from '../../src/lib/name-check.js';
import { checkRename } from '../../src/lib/rename-check.js';

const serverHas = (...names: string[]): NameLookup => async (name) => (names.includes(name) ? 'taken' : 'free');

describe('checkRename', () => {
  const listed = new Set(['a.txt', 'b.txt']);

  it('does nothing for an unchanged name', async () => {
    assert.deepEqual(await checkRename('a.txt', 'a.txt', listed, serverHas()), { verdict: 'unchanged' });
  });

  it('refuses an empty name and a name the page lists or the server has, before sending anything', async () => {
    assert.equal((await checkRename('a.txt', '  ', listed, serverHas())).verdict, 'refused');
    assert.deepEqual(await checkRename('a.txt', 'b.txt', listed, serverHas()), {
      verdict: 'refused',
      message: '“b.txt” is already on the server; choose another name',
    });
    assert.equal((await checkRename('a.txt', 'hidden by search.txt', listed, serverHas('hidden by search.txt'))).verdict, 'refused');
  });

  it('sends a free name, and one it cannot check (the server has the last word)', async () => {
    assert.deepEqual(await checkRename('a.txt', 'c.txt', listed, serverHas()), { verdict: 'send', name: 'c.txt' });
    assert.deepEqual(await checkRename('a.txt', 'c.txt', listed, async () => 'unknown'), { verdict: 'send', name: 'c.txt' });
  });
});
