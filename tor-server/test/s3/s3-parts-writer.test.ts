import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { scratchDir } from 'test-support';
import type { FileName } from '../../src/server/store/store.js';
import { Partial } from '../../src/server/partials/partial.js';
import { PartsWriter, type PartFiles } from '../../src/server/store/s3/s3-partial-writer.js';
import { patternBytes } from '../helpers.js';

const PART = 256 * 1024;

/** The part files of one partial in a real folder (or all on `device`), recording which parts were reported stored. */
function partFiles(dir: string, device?: string): PartFiles & { storedParts: number[] } {
  const storedParts: number[] = [];
  return {
    storedParts,
    partBytes: () => PART,
    partPath: (_partial, index) => device ?? path.join(dir, `${index}.part`),
    uploaded: () => false,
    whole: () => false,
    rewriting: async () => {},
    rewritten: () => {},
    stored: async (_partial, index) => void storedParts.push(index),
  };
}

async function newPartial(t: TestContext, size: number): Promise<{ dir: string; partial: Partial }> {
  const dir = await scratchDir(t, 'tor-parts-');
  const partial = new Partial('p1', path.join(dir, 'p1.json'), { owner: 'o', name: 'f.bin' as FileName, size, sha256: null, ranges: [], touchedAt: Date.now() });
  return { dir, partial };
}

/** Feeds `data` to the writer in 64 KiB chunks, as a socket would. */
async function feed(writer: PartsWriter, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 64 * 1024) await writer.write(data.subarray(at, Math.min(data.length, at + 64 * 1024)));
}

describe('PartsWriter', () => {
  it('writes a put that spans parts into each part file, byte-identical, and records it as it moves past each part', async (t) => {
    const data = patternBytes(3 * PART - 100, 3);
    const { dir, partial } = await newPartial(t, data.length);
    const parts = partFiles(dir);
    const offset = 1000;
    const writer = new PartsWriter(parts, partial, offset);
    try {
      await feed(writer, data.subarray(offset));
      await writer.keep();
    } finally {
      await writer.close();
    }
    assert.equal(writer.written, data.length - offset);
    assert.deepEqual(partial.ranges, [[offset, data.length]]);
    // Each part is reported as the put moves past it (the last once more by keep: it may have become whole).
    assert.deepEqual([...new Set(parts.storedParts)], [0, 1, 2]);
    assert.deepEqual((await fs.readFile(path.join(dir, '0.part'))).subarray(offset), data.subarray(offset, PART));
    assert.deepEqual(await fs.readFile(path.join(dir, '1.part')), data.subarray(PART, 2 * PART));
    assert.deepEqual(await fs.readFile(path.join(dir, '2.part')), data.subarray(2 * PART));
  });

  it('a short put whose only batch fails (a full disk) is not kept: keep throws no-space and records nothing', async (t) => {
    const { dir, partial } = await newPartial(t, 4 * PART);
    // /dev/full takes the open and fails every write with ENOSPC: a disk that is full for real.
    const writer = new PartsWriter(partFiles(dir, '/dev/full'), partial, 0);
    try {
      await writer.write(patternBytes(1000, 4));
      await assert.rejects(writer.keep(), { kind: 'no-space' });
    } finally {
      await writer.close();
    }
    assert.equal(writer.written, 0);
    assert.deepEqual(partial.ranges, []);
  });
});
