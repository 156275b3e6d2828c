import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { spoolToFile } from '../../src/lib/spool.js';
import { scratchDir } from '../helpers.js';

test('spools a stream to a private file and removes it on request', async (t) => {
  const dir = await scratchDir(t);
  const spooled = await spoolToFile(Readable.from([Buffer.from('abc'), Buffer.from('def')]), dir, 6);
  assert.equal(spooled.size, 6);
  assert.equal(await fs.readFile(spooled.path, 'utf8'), 'abcdef');
  assert.equal((await fs.stat(spooled.path)).mode & 0o777, 0o600);
  await spooled.remove();
  assert.deepEqual(await fs.readdir(dir), []);
});

test('a stream over the limit is refused with 413 and leaves no file', async (t) => {
  const dir = await scratchDir(t);
  await assert.rejects(spoolToFile(Readable.from([Buffer.alloc(4), Buffer.alloc(4)]), dir, 7), (error: unknown) => error instanceof GatewayError && error.statusCode === 413);
  assert.deepEqual(await fs.readdir(dir), []);
});
