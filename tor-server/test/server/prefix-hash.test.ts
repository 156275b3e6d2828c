import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { scratchDir, sha256 } from 'test-support';
import type { ByteRange } from '../../src/protocol/ranges.js';
import { PrefixHash } from '../../src/server/partials/prefix-hash.js';
import { patternBytes } from '../helpers.js';

const PART = 256 * 1024;

/** A data file of `size` bytes holding `content` (zeros when not given). */
async function dataFile(t: TestContext, size: number, content?: Buffer): Promise<string> {
  const file = path.join(await scratchDir(t, 'tor-prefix-'), 'partial.data');
  await fs.writeFile(file, content ?? Buffer.alloc(size));
  return file;
}

/** Feeds `data[start, end)` to the hash as a put would, in 64 KiB chunks. */
function take(prefix: PrefixHash, data: Buffer, start: number, end: number): void {
  for (let at = start; at < end; at += 64 * 1024) prefix.taking(at, data.subarray(at, Math.min(end, at + 64 * 1024)));
}

describe('PrefixHash', () => {
  it('puts one after another are hashed as they pass: the file is never read', async (t) => {
    const data = patternBytes(4 * PART + 123);
    // The file holds zeros: a digest read from it would differ.
    const prefix = new PrefixHash(await dataFile(t, data.length), data.length);
    const ranges: ByteRange[] = [];
    for (let start = 0; start < data.length; start += PART) {
      const end = Math.min(data.length, start + PART);
      take(prefix, data, start, end);
      ranges.push([0, end]);
      prefix.stored([[0, end]]);
    }
    assert.equal(await prefix.digest([[0, data.length]]), sha256(data));
    // A second commit (the first lost its name to another upload) gets the same answer.
    assert.equal(await prefix.digest([[0, data.length]]), sha256(data));
  });

  it('parts stored out of order are read back once the prefix reaches them', async (t) => {
    const data = patternBytes(4 * PART + 7, 2);
    const prefix = new PrefixHash(await dataFile(t, data.length, data), data.length);
    // Parts 2 and 3 arrive first (other connections); nothing can be hashed of them yet.
    take(prefix, data, 2 * PART, data.length);
    prefix.stored([[2 * PART, data.length]]);
    take(prefix, data, 0, PART);
    prefix.stored([[0, PART], [2 * PART, data.length]]);
    take(prefix, data, PART, 2 * PART);
    prefix.stored([[0, data.length]]);
    assert.equal(await prefix.digest([[0, data.length]]), sha256(data));
  });

  it('a write inside the hashed bytes spoils it: the commit must read the file', async (t) => {
    const data = patternBytes(2 * PART, 3);
    const prefix = new PrefixHash(await dataFile(t, data.length, data), data.length);
    take(prefix, data, 0, PART);
    prefix.stored([[0, PART]]);
    // The same range again, maybe with other bytes.
    take(prefix, data, PART / 2, PART);
    take(prefix, data, PART, 2 * PART);
    assert.equal(await prefix.digest([[0, data.length]]), undefined);
  });

  it('a write into a stretch being read back spoils it', async (t) => {
    const data = patternBytes(64 * PART, 4);
    const prefix = new PrefixHash(await dataFile(t, data.length, data), data.length);
    take(prefix, data, PART, data.length);
    prefix.stored([[PART, data.length]]);
    take(prefix, data, 0, PART);
    prefix.stored([[0, data.length]]);
    // The read-back of [PART, end) is out now.
    prefix.taking(data.length - 10, data.subarray(data.length - 10));
    assert.equal(await prefix.digest([[0, data.length]]), undefined);
  });

  it('after a digest, any write spoils it', async (t) => {
    const data = patternBytes(PART, 5);
    const prefix = new PrefixHash(await dataFile(t, data.length, data), data.length);
    take(prefix, data, 0, PART);
    assert.equal(await prefix.digest([[0, PART]]), sha256(data));
    prefix.taking(0, Buffer.from('x'));
    assert.equal(await prefix.digest([[0, PART]]), undefined);
  });

  it('a data file shorter than what was stored spoils it instead of failing', async (t) => {
    const data = patternBytes(2 * PART, 6);
    const prefix = new PrefixHash(await dataFile(t, PART, data.subarray(0, PART)), data.length);
    take(prefix, data, PART, 2 * PART);
    prefix.stored([[PART, 2 * PART]]);
    take(prefix, data, 0, PART);
    prefix.stored([[0, 2 * PART]]);
    assert.equal(await prefix.digest([[0, 2 * PART]]), undefined);
  });

  it('stop ends a read-back and spoils the hash', async (t) => {
    const data = patternBytes(64 * PART, 7);
    const prefix = new PrefixHash(await dataFile(t, data.length, data), data.length);
    prefix.stored([[0, data.length]]);
    await prefix.stop();
    assert.equal(await prefix.digest([[0, data.length]]), undefined);
  });
});
