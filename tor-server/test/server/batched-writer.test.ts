import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BatchedFileWriter } from '../../src/server/store/batched-writer.js';
import { patternBytes } from '../helpers.js';

const CHUNK_BYTES = 64 * 1024;

describe('BatchedFileWriter', () => {
  it('a long upload (past the switch to 1 MiB batches) is written byte-identical, in odd-sized chunks', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-batched-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const data = patternBytes(20 * 1024 * 1024 + 12_345);
    const file = path.join(dir, 'long.bin');
    const handle = await fs.open(file, 'w');
    try {
      const writer = new BatchedFileWriter(handle);
      // Odd sizes, so batches never line up with the chunk boundaries.
      for (let at = 0, size = CHUNK_BYTES - 7; at < data.length; at += size, size = size === CHUNK_BYTES - 7 ? 1000 : CHUNK_BYTES - 7) {
        await writer.write(data.subarray(at, at + size));
      }
      assert.equal(await writer.finish(), undefined);
    } finally {
      await handle.close();
    }
    assert.ok((await fs.readFile(file)).equals(data));
  });

  it('at a position (a put into a partial), it writes only its own range and counts what it wrote', async (t) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-batched-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const before = Buffer.alloc(3 * 1024 * 1024, 'x');
    const file = path.join(dir, 'partial.data');
    await fs.writeFile(file, before);
    const position = 300_001;
    // Long enough for large batches, which then end before the chunks do.
    const data = patternBytes(2 * 1024 * 1024 + 4321);
    const handle = await fs.open(file, 'r+');
    try {
      const writer = new BatchedFileWriter(handle, { position, uploadBytes: 1024 ** 3 });
      for (let at = 0; at < data.length; at += CHUNK_BYTES - 7) await writer.write(data.subarray(at, at + CHUNK_BYTES - 7));
      assert.ok(writer.written < data.length, 'the last batch waits for more bytes or the finish');
      assert.equal(await writer.finish(), undefined);
      assert.equal(writer.written, data.length);
    } finally {
      await handle.close();
    }
    const expected = Buffer.concat([before.subarray(0, position), data, before.subarray(position + data.length)]);
    assert.ok((await fs.readFile(file)).equals(expected));
  });
});
