import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ErrorKind } from 'tor-server/protocol';
import { scratchDir } from 'test-support';
import { GatewayError } from '../../src/errors.js';
import { freeBytes, spoolToFile } from '../../src/lib/spool.js';

const NO_RESERVE = { reserveBytes: 0 };

test('spools a stream to a private file and removes it on request', async (t) => {
  const dir = await scratchDir(t);
  const spooled = await spoolToFile(Readable.from([Buffer.from('abc'), Buffer.from('def')]), dir, { maxBytes: 6, ...NO_RESERVE });
  assert.equal(spooled.size, 6);
  assert.equal(await fs.readFile(spooled.path, 'utf8'), 'abcdef');
  assert.equal((await fs.stat(spooled.path)).mode & 0o777, 0o600);
  await spooled.remove();
  assert.deepEqual(await fs.readdir(dir), []);
});

test('a stream over the limit is refused with 413 and leaves no file', async (t) => {
  const dir = await scratchDir(t);
  await assert.rejects(spoolToFile(Readable.from([Buffer.alloc(4), Buffer.alloc(4)]), dir, { maxBytes: 7, ...NO_RESERVE }), (error: unknown) => error instanceof GatewayError && error.statusCode === 413);
  assert.deepEqual(await fs.readdir(dir), []);
});

test('a stream that would not fit in the free space of the spool folder is refused with 507 and leaves no file', async (t) => {
  const dir = await scratchDir(t);
  // Leave this spool 1 MiB of the folder's real free space, and offer it 256 MiB: far more than
  // other tests running meanwhile could free on the same disk. Only the first MiBs are written.
  const reserveBytes = (await freeBytes(dir)) - 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024);
  function* chunks() {
    for (let i = 0; i < 4096; i++) yield chunk;
  }
  await assert.rejects(
    spoolToFile(Readable.from(chunks()), dir, { maxBytes: Infinity, reserveBytes }),
    (error: unknown) => error instanceof GatewayError && error.statusCode === 507 && error.message.startsWith(ErrorKind.NO_SPACE),
  );
  assert.deepEqual(await fs.readdir(dir), []);
});
