import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from 'test-support';
import { ErrorKind, Reply, errorKindOf } from '../../src/protocol/constants.js';
import { LineClient, patternBytes, placeFile, startServer } from '../helpers.js';

const data = patternBytes(300_000);

describe('download', () => {
  it('sends ok, found, the size and exactly the file bytes, then takes the next command', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'my clip.mp4', data);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.request('download my clip.mp4'), Reply.OK);
    assert.deepEqual(await client.lines(2), [Reply.FOUND, String(data.length)]);
    assert.equal(sha256(await client.bytes(data.length)), sha256(data));
    assert.equal(await client.request('show'), Reply.OK);
    assert.equal((await client.listing()).length, 1);
  });

  it('an empty file is found with size 0 and no bytes: the next reply follows directly', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'empty', '');
    const client = await LineClient.connect(t, port);
    client.send('download empty\nexit\n');
    assert.deepEqual(await client.lines(4), [Reply.OK, Reply.FOUND, '0', Reply.EXIT]);
    assert.equal(await client.rest(), '');
  });

  it('a missing file is ok then Not found file, and the connection stays usable', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('download nothing.txt'), Reply.OK);
    assert.equal(await client.line(), Reply.NOT_FOUND);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('the name is matched exactly (case and spaces count)', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'Notes.txt', 'n');
    const client = await LineClient.connect(t, port);
    for (const name of ['notes.txt', 'Notes.txt ', ' Notes.txt']) assert.deepEqual([await client.request(`download ${name}`), await client.line()], [Reply.OK, Reply.NOT_FOUND], name);
    assert.deepEqual(await client.download('download Notes.txt'), Buffer.from('n'));
  });

  it('download without a name is bad syntax', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('download'), Reply.UNKNOWN);
    assert.equal(await client.request('download '), Reply.UNKNOWN);
  });
});

describe('range', () => {
  it('sends bytes [offset, offset+length), byte-identical', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'v.mp4', data);
    const client = await LineClient.connect(t, port);
    for (const [offset, length] of [[0, 10], [1, 1], [12345, 100_000], [0, data.length], [data.length - 1, 1]] as const) {
      assert.deepEqual(await client.download(`range ${offset} ${length} v.mp4`), data.subarray(offset, offset + length), `${offset} ${length}`);
    }
  });

  it('clips the length at the end of the file and says so in the size line', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'v.mp4', data);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request(`range ${data.length - 5} 1000 v.mp4`), Reply.OK);
    assert.deepEqual(await client.lines(2), [Reply.FOUND, '5']);
    assert.deepEqual(await client.bytes(5), data.subarray(data.length - 5));
    assert.deepEqual(await client.download(`range 100 ${Number.MAX_SAFE_INTEGER} v.mp4`), data.subarray(100));
  });

  it('a zero length is found with size 0', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'v.mp4', data);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('range 7 0 v.mp4'), Reply.OK);
    assert.deepEqual(await client.lines(2), [Reply.FOUND, '0']);
    assert.equal(await client.request('range 0 0 v.mp4'), Reply.OK);
    assert.deepEqual(await client.lines(2), [Reply.FOUND, '0']);
  });

  it('an offset at or past the end is ok then an Invalid range error, and the connection stays usable', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'v.mp4', data);
    const client = await LineClient.connect(t, port);
    for (const offset of [data.length, data.length + 1, Number.MAX_SAFE_INTEGER]) {
      assert.equal(await client.request(`range ${offset} 10 v.mp4`), Reply.OK);
      const line = await client.line();
      assert.equal(errorKindOf(line), ErrorKind.INVALID_RANGE, line);
      assert.equal(line, `${ErrorKind.INVALID_RANGE}: offset ${offset} is past the end of the file (size ${data.length})`);
    }
    assert.deepEqual(await client.download('range 0 3 v.mp4'), data.subarray(0, 3));
  });

  it('offset 0 of an empty file is a valid empty range; offset 1 is not', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'empty', '');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('range 0 10 empty'), Reply.OK);
    assert.deepEqual(await client.lines(2), [Reply.FOUND, '0']);
    assert.equal(await client.request('range 1 10 empty'), Reply.OK);
    assert.equal(errorKindOf(await client.line()), ErrorKind.INVALID_RANGE);
  });

  it('a missing file is ok then Not found file', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('range 0 10 missing.bin'), Reply.OK);
    assert.equal(await client.line(), Reply.NOT_FOUND);
  });

  it('the name may contain spaces and digits', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, '2 3 four.txt', 'abcdef');
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.download('range 1 3 2 3 four.txt'), Buffer.from('bcd'));
  });

  it('malformed arguments are bad syntax', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'v', 'v');
    const client = await LineClient.connect(t, port);
    for (const line of ['range', 'range 0', 'range 0 1', 'range 0 1 ', 'range -1 1 v', 'range 0 -1 v', 'range a 1 v', 'range 1.5 1 v', 'range 0x1 1 v', 'range 99999999999999999 1 v', 'range  0 1 v'])
      assert.equal(await client.request(line), Reply.UNKNOWN, line);
    assert.deepEqual(await client.download('range 0 1 v'), Buffer.from('v'));
  });
});
