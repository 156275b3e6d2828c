import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scratchDir } from 'test-support';
import { silentLogger } from '../../src/server/logger.js';
import { FolderPartialBytes } from '../../src/server/partials/folder-partial-bytes.js';
import { EMPTY_PARTIAL_TTL_MS, PartialStore } from '../../src/server/partials/partial-store.js';
import type { FileName } from '../../src/server/store/store.js';

const HOUR_MS = 3600_000;

describe('partials expire', () => {
  it('after the TTL when they hold bytes, after EMPTY_PARTIAL_TTL_MS (or the TTL when shorter) when they hold none', async (t) => {
    const store = await PartialStore.open(await scratchDir(t, 'partials-'), {
      ttlMs: HOUR_MS,
      maxPerOwner: 4,
      logger: silentLogger,
      bytes: (dir) => new FolderPartialBytes(dir, silentLogger, () => Promise.reject(new Error('nothing is committed here'))),
    });
    t.after(() => store.close());
    const begun = async (name: string) => {
      const result = await store.begin('owner', name as FileName, 10, undefined);
      assert.notEqual(result, 'too-many');
      return (result as Exclude<typeof result, 'too-many'>).partial;
    };
    const empty = await begun('empty.bin');
    const started = await begun('started.bin');
    await started.addStored([0, 1], empty.touchedAt);
    assert.equal(store.expiresAt(empty), empty.touchedAt + EMPTY_PARTIAL_TTL_MS);
    assert.equal(store.expiresAt(started), started.touchedAt + HOUR_MS);
    await store.sweep(empty.touchedAt + EMPTY_PARTIAL_TTL_MS + 1);
    assert.equal(store.get('owner', empty.id), undefined);
    assert.equal(store.get('owner', started.id), started);
    await store.sweep(started.touchedAt + HOUR_MS + 1);
    assert.equal(store.get('owner', started.id), undefined);
  });
});
