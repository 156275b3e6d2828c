import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ChecksumCheck, parseChecksum } from '../../../src/lib/tus/checksum.js';

const digest = (algorithm: string, data: string) => createHash(algorithm).update(data).digest('base64');

async function drain(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* from(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe('Upload-Checksum', () => {
  it('parses sha256 and sha1; no header is no check', () => {
    assert.deepEqual(parseChecksum(`sha256 ${digest('sha256', 'x')}`), { algorithm: 'sha256', digest: createHash('sha256').update('x').digest() });
    assert.equal(parseChecksum(`sha1 ${digest('sha1', 'x')}`)?.algorithm, 'sha1');
    assert.equal(parseChecksum(undefined), undefined);
  });

  it('refuses unknown algorithms, digests of the wrong length and junk (400)', () => {
    for (const header of [`md5 ${digest('md5', 'x')}`, `sha256 ${digest('sha1', 'x')}`, 'sha256', 'sha256 ***', `sha256 ${digest('sha256', 'x')} extra`]) {
      assert.throws(() => parseChecksum(header), (error: { statusCode?: number }) => error.statusCode === 400, header);
    }
  });

  it('passes bytes through unchanged and verifies them; a mismatch is 460 naming both digests', async () => {
    const good = new ChecksumCheck(parseChecksum(`sha256 ${digest('sha256', 'hello world')}`)!);
    assert.equal((await drain(good.through(from('hello', ' ', 'world')))).toString(), 'hello world');
    good.verify();
    const bad = new ChecksumCheck(parseChecksum(`sha1 ${digest('sha1', 'hello')}`)!);
    await drain(bad.through(from('hellO')));
    assert.throws(() => bad.verify(), (error: { statusCode?: number; message: string }) => error.statusCode === 460 && error.message.startsWith('Checksum mismatch: ') && error.message.includes(digest('sha1', 'hellO')));
  });
});
