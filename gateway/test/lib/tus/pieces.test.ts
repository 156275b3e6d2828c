import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PieceReader } from '../../../src/lib/tus/pieces.js';

async function* from(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk.toString();
  return out;
}

describe('PieceReader', () => {
  it('cuts a stream into pieces of the given lengths, splitting chunks that straddle two', async () => {
    const reader = new PieceReader(from('abc', 'defgh', 'i', 'jklmnop'));
    assert.equal(await text(reader.take(4)), 'abcd');
    assert.equal(await text(reader.take(1)), 'e');
    assert.equal(await text(reader.take(6)), 'fghijk');
    assert.equal(reader.bytesRead, 11);
    assert.equal(await text(reader.take(0)), '');
    assert.equal(await text(reader.take(5)), 'lmnop');
  });

  it('gives fewer bytes when the stream ends first, and nothing after', async () => {
    const reader = new PieceReader(from('ab', 'c'));
    assert.equal(await text(reader.take(5)), 'abc');
    assert.equal(await text(reader.take(5)), '');
    assert.equal(reader.bytesRead, 3);
  });

  it('reads no chunk ahead of what a piece needs', async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for (const part of ['aa', 'bb', 'cc']) {
        pulled += 1;
        yield Buffer.from(part);
      }
    }
    const reader = new PieceReader(counted());
    assert.equal(await text(reader.take(2)), 'aa');
    assert.equal(pulled, 1);
  });
});
