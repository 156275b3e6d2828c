import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { TftcpClient, TftcpReplyError } from '../../src/client/index.js';
import { ErrorKind, Reply } from '../../src/protocol/constants.js';

// A stand-in server that records each command line and refuses it, so a test can see what a
// client sent; every wait is bounded by the client's own reply timeout.
async function recordingServer(t: { after(fn: () => unknown): void }): Promise<{ port: number; lines: string[] }> {
  const lines: string[] = [];
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        lines.push(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        socket.write(`${Reply.UNKNOWN}\n`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, lines };
}

describe('TftcpClient name checks', () => {
  it('by default refuses a name the server would refuse, sending nothing', async (t) => {
    const { port, lines } = await recordingServer(t);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port, replyTimeoutMs: 5000 });
    t.after(() => client.destroy());
    const refusedLocally = (error: unknown) => error instanceof TftcpReplyError && error.kind === ErrorKind.INVALID_NAME;
    await assert.rejects(client.download('.hidden'), refusedLocally);
    await assert.rejects(client.upload('a/b', 1, Readable.from([Buffer.from('x')])), refusedLocally);
    await assert.rejects(client.show(), TftcpReplyError);
    assert.deepEqual(lines, ['show']);
  });

  it('with namesChecked sends names as given: the caller checked them, the server checks again', async (t) => {
    const { port, lines } = await recordingServer(t);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port, replyTimeoutMs: 5000, namesChecked: true });
    t.after(() => client.destroy());
    await assert.rejects(client.download('.hidden'), (error: unknown) => error instanceof TftcpReplyError && error.message === Reply.UNKNOWN);
    await assert.rejects(client.range('.hidden', 0, 1), (error: unknown) => error instanceof TftcpReplyError && error.message === Reply.UNKNOWN);
    assert.deepEqual(lines, ['download .hidden', 'range 0 1 .hidden']);
  });
});
