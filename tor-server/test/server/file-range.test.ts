import assert from 'node:assert/strict';
import { fstatSync, openSync } from 'node:fs';
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

/** Whether `fd` is no longer open (nothing else in this test opens files meanwhile, so it is not reused). */
function isClosed(fd: number): boolean {
  try {
    fstatSync(fd);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EBADF';
  }
}

describe('readFileRange', () => {
  it('streams a long range (past the switch to 1 MiB chunks) byte-identical, then closes the file', async (t) => {
    const data = patternBytes(20 * 1024 * 1024 + 4321, 5);
    const fd = openSync(await fileWith(t, data), 'r');
    const offset = 777;
    assert.ok((await buffer(readFileRange(fd, offset, data.length - offset))).equals(data.subarray(offset)));
    await eventually(() => isClosed(fd), 'the file closed');
  });

  it('ends early when the file is shorter than the range (it shrank meanwhile)', async (t) => {
    const data = patternBytes(100_000, 6);
    const fd = openSync(await fileWith(t, data), 'r');
    assert.ok((await buffer(readFileRange(fd, 0, 300_000))).equals(data));
    await eventually(() => isClosed(fd), 'the file closed');
  });

  it('closes the file when the stream is destroyed before its first read (the client left at once)', async (t) => {
    const fd = openSync(await fileWith(t, patternBytes(1024, 9)), 'r');
    const stream = readFileRange(fd, 0, 1024);
    stream.destroy();
    await finished(stream).catch(() => {});
    await eventually(() => isClosed(fd), 'the file closed');
  });

  it('closes the file when its consumer destroys the stream midway', async (t) => {
    const fd = openSync(await fileWith(t, patternBytes(4 * 1024 * 1024, 8)), 'r');
    const stream = readFileRange(fd, 0, 4 * 1024 * 1024);
    stream.once('data', () => stream.destroy());
    await finished(stream).catch(() => {});
    await eventually(() => isClosed(fd), 'the file closed');
  });

  it('reads a short range (a small file, a 64 KiB seek) at once: byte-identical, the file already closed', async (t) => {
    const data = patternBytes(200_000, 10);
    const fd = openSync(await fileWith(t, data), 'r');
    const stream = readFileRange(fd, 100_000, 64 * 1024);
    assert.ok(isClosed(fd), 'closed before the stream is read');
    assert.ok((await buffer(stream)).equals(data.subarray(100_000, 100_000 + 64 * 1024)));
  });

  it('ends a short range early when the file is shorter (it shrank meanwhile), and sends nothing past its end', async (t) => {
    const data = patternBytes(1000, 11);
    const fd = openSync(await fileWith(t, data), 'r');
    assert.ok((await buffer(readFileRange(fd, 400, 4096))).equals(data.subarray(400)));
    const past = openSync(await fileWith(t, data), 'r');
    assert.equal((await buffer(readFileRange(past, 5000, 10))).length, 0);
  });

  it('fails the stream of a short range when the read fails, and closes the file', async (t) => {
    // A folder opens, but reading it fails (EISDIR): a read error the kernel gives for real.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-range-dir-'));
    t.after(() => fs.rm(dir, { recursive: true, force: true }));
    const fd = openSync(dir, 'r');
    const stream = readFileRange(fd, 0, 1024);
    await assert.rejects(buffer(stream), { code: 'EISDIR' });
    assert.ok(isClosed(fd));
  });
});
