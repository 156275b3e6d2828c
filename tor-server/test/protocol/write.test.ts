import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it, type TestContext } from 'node:test';
import { eventually, within } from 'test-support';
import { sendExactly, writeLine } from '../../src/protocol/write.js';
import { patternBytes } from '../helpers.js';

/** A connected pair of real sockets on 127.0.0.1. */
async function socketPair(t: TestContext): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [peer] = await within(accepted);
  server.close();
  t.after(() => {
    client.destroy();
    peer.destroy();
  });
  return [client, peer];
}

describe('writeLine and sendExactly', () => {
  it('writeLine ends the line with LF only', async (t) => {
    const [a, b] = await socketPair(t);
    await writeLine(a, 'ok');
    await writeLine(a, 'Not found file');
    a.end();
    assert.equal((await within(buffer(b))).toString(), 'ok\nNot found file\n');
  });

  it('sendExactly copies exactly the announced bytes through a real socket, with backpressure', async (t) => {
    const [a, b] = await socketPair(t);
    const data = patternBytes(8 * 1024 * 1024);
    let counted = 0;
    const received = within(buffer(b), 20_000);
    await within(sendExactly(Readable.from([data.subarray(0, 3), data.subarray(3)]), a, data.length, (n) => (counted += n)), 20_000);
    a.end();
    assert.ok((await received).equals(data));
    assert.equal(counted, data.length);
  });

  it('rejects a source with fewer or more bytes than announced', async (t) => {
    const [a] = await socketPair(t);
    await assert.rejects(sendExactly(Readable.from([Buffer.from('abc')]), a, 4), /ended after 3 of the announced 4/);
    await assert.rejects(sendExactly(Readable.from([Buffer.from('abcde')]), a, 4), /more than the announced 4/);
  });

  it('rejects instead of waiting forever when the socket closes while it waits for drain', async (t) => {
    const [a, b] = await socketPair(t);
    b.pause();
    const endless = new Readable({ read() { this.push(Buffer.alloc(64 * 1024)); } });
    const sending = sendExactly(endless, a, Number.MAX_SAFE_INTEGER);
    // Destroyed once the sender is held up by a full socket buffer.
    await eventually(() => a.writableNeedDrain, 'the socket buffer to fill');
    a.destroy();
    await assert.rejects(within(sending), /closed/);
    endless.destroy();
  });
});
