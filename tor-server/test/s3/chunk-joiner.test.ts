import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ChunkJoiner, JOINED_CHUNK_BYTES } from '../../src/server/store/s3/chunk-joiner.js';

describe('ChunkJoiner', () => {
  it('passes what arrived in one turn on as one chunk, and the bytes are the same', async () => {
    const joiner = new ChunkJoiner();
    const out: Buffer[] = [];
    joiner.on('data', (chunk: Buffer) => out.push(chunk));
    joiner.write(Buffer.from('ab'));
    joiner.write(Buffer.from('cd'));
    await nextTurn();
    joiner.write(Buffer.from('ef'));
    joiner.end();
    await once(joiner, 'end');
    assert.deepEqual(out.map(String), ['abcd', 'ef']);
  });

  it('never holds more than about JOINED_CHUNK_BYTES: a large turn goes on in several chunks', async () => {
    const joiner = new ChunkJoiner();
    const sizes: number[] = [];
    joiner.on('data', (chunk: Buffer) => sizes.push(chunk.length));
    const piece = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 20; i++) joiner.write(piece);
    joiner.end();
    await once(joiner, 'end');
    assert.equal(sizes.reduce((a, b) => a + b, 0), 20 * piece.length);
    assert.ok(sizes.every((size) => size <= JOINED_CHUNK_BYTES), sizes.join(' '));
    assert.equal(sizes.length, Math.ceil((20 * piece.length) / JOINED_CHUNK_BYTES));
  });

  it('a joiner destroyed with pieces held drops them and pushes nothing later', async () => {
    const joiner = new ChunkJoiner();
    const out: Buffer[] = [];
    joiner.on('data', (chunk: Buffer) => out.push(chunk));
    joiner.on('error', () => {});
    joiner.write(Buffer.from('held'));
    joiner.destroy();
    await nextTurn();
    await nextTurn();
    assert.deepEqual(out, []);
  });
});
