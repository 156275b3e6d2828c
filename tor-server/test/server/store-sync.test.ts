import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { syncDirAfter } from '../../src/server/store/fs-upload.js';
import { scratchDir } from 'test-support';
import { memoryLogger } from '../helpers.js';

describe('the folder sync after a change', () => {
  it('that fails is a warning in the log, not a failure of the change already made', async (t) => {
    const { logger, text } = memoryLogger();
    // A folder that cannot be opened: the one failure of a folder sync this test can cause for real (it runs as any user).
    const gone = path.join(await scratchDir(t), 'gone');
    await syncDirAfter(gone, 'delete a.txt', logger);
    assert.match(text(), /folder-sync-failed .*change="delete a\.txt" .*ENOENT/);
  });
});
