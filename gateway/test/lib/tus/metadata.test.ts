import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatNameMetadata, metadataFileName, parseMetadata } from '../../../src/lib/tus/metadata.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('Upload-Metadata', () => {
  it('parses key and base64 value pairs, a key without a value, and spaces after commas', () => {
    const metadata = parseMetadata(`filename ${b64('ünïcode name.txt')}, filetype ${b64('text/plain')},is_confidential`);
    assert.deepEqual([...metadata], [
      ['filename', 'ünïcode name.txt'],
      ['filetype', 'text/plain'],
      ['is_confidential', ''],
    ]);
    assert.equal(parseMetadata(undefined).size, 0);
    assert.equal(parseMetadata('  ').size, 0);
  });

  it('refuses malformed pairs, repeated keys and values that are not UTF-8 (400)', () => {
    for (const header of ['filename a b', 'a,,b', `filename ${b64('a')},filename ${b64('b')}`, 'filename !!!', `filename ${Buffer.from([0xff, 0xfe]).toString('base64')}`]) {
      assert.throws(() => parseMetadata(header), (error: { statusCode?: number }) => error.statusCode === 400, header);
    }
  });

  it('takes the name from filename, else name, and formats it back under filename', () => {
    assert.equal(metadataFileName(parseMetadata(`name ${b64('b.txt')},filename ${b64('a.txt')}`)), 'a.txt');
    assert.equal(metadataFileName(parseMetadata(`name ${b64('b.txt')}`)), 'b.txt');
    assert.throws(() => metadataFileName(parseMetadata(`type ${b64('x')}`)), /must carry the file name as "filename"/);
    assert.equal(formatNameMetadata('é.txt'), `filename ${b64('é.txt')}`);
  });
});
