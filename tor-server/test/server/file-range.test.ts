import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { eventually } from 'test-support';
import { readFileRange } from '../../src/server/store/file-range.js';
import { patternBytes } from '../helpers.js';

/** A file holding `data` in a fresh folder removed after the test. */
async function fileWith(t: { after(fn: () => Promise<void>): void }, data: Buffer): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-range-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data.bin');
  await fs.writeFile(file, data);
  return file;
}

describe('readFileRange', () => {
  it('streams a long range (past the switch to 1 MiB chunks) byte-identical, then closes the file', async (t) => {
    const data = patternBytes(20 * 1024 * 1024 + 4321, 5);
    const handle = await fs.open(await fileWith(t, data), 'r');
    const offset = 777;
    assert.ok((await buffer(readFileRange(handle, offset, data.length - offset))).equals(data.subarray(offset)));
    await eventually(() => handle.fd === -1, 'the handle closed');
  });

  it('ends early when the file is shorter than the range (it shrank meanwhile)', async (t) => {
    const data = patternBytes(100_000, 6);
    const handle = await fs.open(await fileWith(t, data), 'r');
    assert.ok((await buffer(readFileRange(handle, 0, 300_000))).equals(data));
    await eventually(() => handle.fd === -1, 'the handle closed');
  });

  it('closes the file when its consumer destroys the stream midway', async (t) => {
    const handle = await fs.open(await fileWith(t, patternBytes(4 * 1024 * 1024, 8)), 'r');
    const stream = readFileRange(handle, 0, 4 * 1024 * 1024);
    stream.once('data', () => stream.destroy());
    await finished(stream).catch(() => {});
    await eventually(() => handle.fd === -1, 'the handle closed');
  });
});
