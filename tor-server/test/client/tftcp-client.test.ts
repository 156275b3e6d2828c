import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it, type TestContext } from 'node:test';
import { eventually, freePort, scratchDir, sha256, spawnTorServer, within } from 'test-support';
import { TftcpConnectionError, TftcpProtocolError, TftcpReplyError, TftcpSizeMismatchError } from '../../src/client/errors.js';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { ErrorKind, Reply } from '../../src/protocol/constants.js';
import { nameFreed, patternBytes, placeFile, startServer, storedBytes, storedRow } from '../helpers.js';

async function connect(t: TestContext, port: number, options: { replyTimeoutMs?: number } = {}): Promise<TftcpClient> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port, ...options });
  t.after(() => client.destroy());
  return client;
}

/** A stand-in server that answers every line with the given raw text, for replies a real server never sends. */
async function scriptedServer(t: TestContext, answer: (line: string) => string | undefined): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let pending = '';
    socket.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
        const reply = answer(pending.slice(0, end));
        pending = pending.slice(end + 1);
        if (reply !== undefined) socket.write(reply);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function isRefusal(reply: string, kind: TftcpReplyError['kind']) {
  return (error: unknown) => {
    assert.ok(error instanceof TftcpReplyError, String(error));
    assert.equal(error.reply, reply);
    assert.equal(error.message, reply);
    assert.equal(error.kind, kind);
    return true;
  };
}

describe('TftcpClient against a real server', () => {
  it('show and search return the listing as entries', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'b clip.mp4', 'bb');
    await placeFile(server, 'a.txt', 'a');
    const client = await connect(t, port);
    const modified = async (name: string) => (await storedRow(server, name)).split('\t')[2];
    assert.deepEqual(await client.show(), [
      { name: 'a.txt', size: 1, modified: await modified('a.txt') },
      { name: 'b clip.mp4', size: 2, modified: await modified('b clip.mp4') },
    ]);
    assert.deepEqual((await client.search('B C')).map((e) => e.name), ['b clip.mp4']);
    assert.deepEqual(await client.search('zzz'), []);
  });

  it('list is show for an empty or absent text, and search otherwise', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'b clip.mp4', 'bb');
    await placeFile(server, 'a.txt', 'a');
    const client = await connect(t, port);
    const all = await client.show();
    assert.deepEqual(await client.list(), all);
    assert.deepEqual(await client.list(''), all);
    assert.deepEqual(await client.list('B C'), await client.search('B C'));
  });

  it('download and range stream exactly the bytes', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(2_000_000);
    await placeFile(server, 'v.mp4', data);
    await placeFile(server, 'empty', '');
    const client = await connect(t, port);
    const whole = await client.download('v.mp4');
    assert.equal(whole.size, data.length);
    assert.equal(sha256(await buffer(whole.stream)), sha256(data));
    const part = await client.range('v.mp4', 1000, 5000);
    assert.equal(part.size, 5000);
    assert.deepEqual(await buffer(part.stream), data.subarray(1000, 6000));
    const tail = await client.range('v.mp4', data.length - 10, 1000);
    assert.equal(tail.size, 10);
    assert.deepEqual(await buffer(tail.stream), data.subarray(data.length - 10));
    const empty = await client.download('empty');
    assert.equal(empty.size, 0);
    assert.equal((await buffer(empty.stream)).length, 0);
    assert.equal((await client.show()).length, 2);
  });

  it('statAndDownload gives the row and exactly the bytes in one round trip; a missing name is undefined and the connection goes on', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(300_000, 4);
    await placeFile(server, 'a b.bin', data);
    const client = await connect(t, port);
    const got = await client.statAndDownload('a b.bin');
    assert.ok(got);
    assert.deepEqual({ name: got.entry.name, size: got.entry.size }, { name: 'a b.bin', size: data.length });
    assert.equal(got.incoming.size, data.length);
    assert.ok((await buffer(got.incoming.stream)).equals(data));
    assert.equal(await client.statAndDownload('missing.bin'), undefined);
    assert.equal((await client.stat('a b.bin'))?.size, data.length);
    await assert.rejects(client.statAndDownload('../x'), { kind: ErrorKind.INVALID_NAME });
    assert.equal((await client.show()).length, 1);
  });

  it('upload stores the bytes and reports progress', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(1_500_000, 3);
    const client = await connect(t, port);
    const progress: number[] = [];
    await client.upload('up.bin', data.length, Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { onProgress: (sent, total) => progress.push(sent / total) });
    assert.equal(sha256((await storedBytes(server, 'up.bin'))), sha256(data));
    assert.equal(progress.at(-1), 1);
    await client.upload('empty.bin', 0, Readable.from([]));
    await client.upload('array.bin', 6, [Buffer.from('abc'), Buffer.from('def')]);
    assert.deepEqual((await client.show()).map((e) => [e.name, e.size]), [['array.bin', 6], ['empty.bin', 0], ['up.bin', data.length]]);
    assert.equal(String(await storedBytes(server, 'array.bin')), 'abcdef');
  });

  it('a source shorter or longer than announced is a TftcpSizeMismatchError, and the server stores nothing', async (t) => {
    const { port, dir, server } = await startServer(t);
    const isMismatch = (announced: number, received: number) => (error: unknown) => {
      assert.ok(error instanceof TftcpSizeMismatchError, String(error));
      assert.equal(error.code, 'TOR_ERR_SIZE_MISMATCH');
      assert.deepEqual([error.fileName, error.announced, error.received], ['x.bin', announced, received]);
      return true;
    };
    const short = await connect(t, port);
    await assert.rejects(short.upload('x.bin', 5, Readable.from([Buffer.from('abc')])), isMismatch(5, 3));
    await eventually(() => short.closed, 'the short upload closed the connection');
    await assert.rejects(short.show(), TftcpConnectionError);
    await nameFreed(server, 'x.bin');
    const long = await connect(t, port);
    await assert.rejects(long.upload('x.bin', 4, [Buffer.from('abc'), Buffer.from('de')]), isMismatch(4, 5));
    await eventually(() => long.closed, 'the long upload closed the connection');
    const check = await connect(t, port);
    assert.deepEqual(await check.show(), []);
    assert.deepEqual((await readdir(dir)).filter((name) => !name.startsWith('.')), []);
  });

  it('refusals throw TftcpReplyError with the reply verbatim and its kind, and the connection stays usable', async (t) => {
    const { port, server } = await startServer(t, { maxFileSize: 10 });
    await placeFile(server, 'a.txt', 'abc');
    const client = await connect(t, port);
    await assert.rejects(client.download('missing'), isRefusal(Reply.NOT_FOUND, 'not-found'));
    await assert.rejects(client.range('missing', 0, 1), isRefusal(Reply.NOT_FOUND, 'not-found'));
    await assert.rejects(client.download('../etc/passwd'), isRefusal('Invalid file name: the name must not contain / or \\', ErrorKind.INVALID_NAME));
    await assert.rejects(client.range('a.txt', 3, 1), isRefusal('Invalid range: offset 3 is past the end of the file (size 3)', ErrorKind.INVALID_RANGE));
    await assert.rejects(client.upload('a.txt', 1, Readable.from([Buffer.from('x')])), isRefusal('File already exists: a.txt', ErrorKind.FILE_EXISTS));
    await assert.rejects(client.upload('big.bin', 11, Readable.from([Buffer.alloc(11)])), isRefusal('File too large: 11 bytes, the limit is 10 bytes', ErrorKind.TOO_LARGE));
    await assert.rejects(client.search(''), isRefusal(Reply.UNKNOWN, 'unknown-command'));
    assert.deepEqual(await buffer((await client.download('a.txt')).stream), Buffer.from('abc'));
    assert.equal(client.closed, false);
  });

  it('commands issued at once run in call order', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    const before = client.show();
    const uploaded = client.upload('x.txt', 3, Readable.from([Buffer.from('xyz')]));
    const after = client.show();
    const download = client.download('x.txt');
    const missing = client.download('y.txt');
    const last = client.search('x');
    assert.deepEqual(await before, []);
    await uploaded;
    assert.deepEqual((await after).map((e) => e.name), ['x.txt']);
    assert.deepEqual(await buffer((await download).stream), Buffer.from('xyz'));
    await assert.rejects(missing, TftcpReplyError);
    assert.deepEqual((await last).map((e) => e.name), ['x.txt']);
  });

  it('exit signs out, the connection closes cleanly, and later commands fail with TftcpConnectionError', async (t) => {
    const { port, server } = await startServer(t);
    const client = await connect(t, port);
    const closed = once(client, 'close');
    await client.exit();
    const [error] = await within(closed);
    assert.equal(error, undefined);
    assert.equal(client.closed, true);
    await assert.rejects(client.show(), TftcpConnectionError);
    await eventually(() => server.connections.size === 0, 'the server let go');
  });

  it('an abandoned download (stream destroyed) closes the connection', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'big.bin', patternBytes(16 * 1024 * 1024));
    const client = await connect(t, port);
    const { stream } = await client.download('big.bin');
    const closed = once(client, 'close');
    for await (const _chunk of stream) break; // leaving the loop destroys the stream
    const [error] = await within(closed);
    assert.ok(error instanceof TftcpConnectionError);
    assert.match(error.message, /abandoned/);
    await assert.rejects(client.show(), TftcpConnectionError);
    await eventually(() => server.connections.size === 0, 'the server let go');
  });
});

describe('TftcpClient connection trouble', () => {
  it('connection refused is a TftcpConnectionError with a helpful message', async () => {
    const port = await freePort();
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.1', port }), (error: Error) => {
      assert.ok(error instanceof TftcpConnectionError);
      assert.equal(error.code, 'TOR_ERR_CONNECTION');
      assert.equal(error.message, `no tor-server is listening at 127.0.0.1:${port} (connection refused). Is it running, and is the port right?`);
      return true;
    });
  });

  it('a server killed while the upload source waits for data: the upload fails at once, not at the next chunk', async (t) => {
    const dir = await scratchDir(t);
    const spawned = await spawnTorServer(t, { dir, args: ['--log-level', 'silent'] });
    const client = await connect(t, spawned.port);
    // A source that delivers one chunk and then waits, like a slow browser.
    const source = new PassThrough();
    source.write(Buffer.alloc(1000));
    const upload = client.upload('slow.bin', 1_000_000, source);
    await eventually(async () => (await readdir(path.join(dir, '.tor-tmp'))).length === 1, 'the upload to start');
    spawned.child.kill('SIGKILL');
    await assert.rejects(within(upload, 3000, 'the upload to fail'), TftcpConnectionError);
    assert.ok(source.destroyed, 'the source was stopped');
  });

  it('a server killed mid-download: the stream errors and the client reports a lost connection', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(64 * 1024 * 1024, 1));
    const spawned = await spawnTorServer(t, { dir, args: ['--log-level', 'silent'] });
    const client = await connect(t, spawned.port);
    const closed = once(client, 'close');
    const { stream, size } = await client.download('big.bin');
    let received = 0;
    const reading = (async () => {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (received === 0) spawned.child.kill('SIGKILL');
        received += chunk.length;
      }
    })();
    await assert.rejects(within(reading));
    assert.ok(received < size);
    const [error] = await within(closed);
    assert.ok(error instanceof TftcpConnectionError, `close reported ${String(error)}`);
    assert.match(error.message, /lost|closed by the server|reset/i);
    assert.doesNotMatch(error.message, /abandoned/);
    assert.equal(client.closed, true);
    await assert.rejects(client.show(), (e: Error) => e instanceof TftcpConnectionError && /lost|closed by the server|reset/i.test(e.message));
  });

  it('a connection reset mid-download fails the stream at once even while its consumer is paused', async (t) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(`ok\nfound\n${10 * 1024 * 1024}\n`);
        // More than the reader's buffers take before they push back, then a reset. (After a clean
        // FIN the bytes already received stay readable, and the end shows once they are read.)
        socket.write(Buffer.alloc(2 * 1024 * 1024, 7), () => socket.resetAndDestroy());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const client = await connect(t, (server.address() as net.AddressInfo).port);
    const { stream } = await client.download('big.bin');
    stream.pause();
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    assert.ok((await within(failed, 5000, 'the paused download to fail')) instanceof Error);
    await within(once(client, 'close'), 5000, 'the client to report the lost connection');
  });

  it('a server that goes silent: the reply timeout closes the connection with TftcpConnectionError', async (t) => {
    const port = await scriptedServer(t, () => undefined);
    const client = await connect(t, port, { replyTimeoutMs: 200 });
    await assert.rejects(within(client.show()), (error: Error) => error instanceof TftcpConnectionError && /sent nothing for 0\.2 s/.test(error.message));
    assert.equal(client.closed, true);
  });

  it('a malformed listing row is a TftcpProtocolError, and the connection is closed', async (t) => {
    const port = await scriptedServer(t, () => 'ok\nnot a row\nend\n');
    const client = await connect(t, port);
    await assert.rejects(client.show(), (error: Error) => error instanceof TftcpProtocolError && /malformed listing row "not a row"/.test(error.message));
    await eventually(() => client.closed, 'the client closed');
  });

  it('statAndDownload: refused twice stays in step; a refused stat with an accepted download, or a file that appeared in between, fails and closes the connection', async (t) => {
    const refusal = 'Permission denied: sign in first';
    const inStep = await connect(t, await scriptedServer(t, (line) => (line.startsWith('stat x') || line.startsWith('download x') ? `${refusal}\n` : 'ok\nNot found file\n')));
    await assert.rejects(inStep.statAndDownload('x'), isRefusal(refusal, ErrorKind.PERMISSION_DENIED));
    assert.equal(await inStep.stat('y'), undefined);
    assert.equal(inStep.closed, false);

    const mixed = await connect(t, await scriptedServer(t, (line) => (line.startsWith('stat') ? `${refusal}\n` : 'ok\nfound\n3\nabc')));
    await assert.rejects(mixed.statAndDownload('x'), (error: Error) => error instanceof TftcpProtocolError && /refused stat but accepted download/.test(error.message));
    await eventually(() => mixed.closed, 'the client closed');

    // A connection error, which a pool retries on a fresh connection.
    const appeared = await connect(t, await scriptedServer(t, (line) => (line.startsWith('stat') ? 'ok\nNot found file\n' : 'ok\nfound\n3\nabc')));
    await assert.rejects(appeared.statAndDownload('x'), (error: Error) => error instanceof TftcpConnectionError && /appeared between stat and download/.test(error.message));
    await eventually(() => appeared.closed, 'the client closed');
  });

  it('a bad size line is a TftcpProtocolError', async (t) => {
    const port = await scriptedServer(t, () => 'ok\nfound\nlots\n');
    const client = await connect(t, port);
    await assert.rejects(client.download('x'), TftcpProtocolError);
  });

  it('aborting the signal closes the connection', async (t) => {
    const { port } = await startServer(t);
    const controller = new AbortController();
    const client = await TftcpClient.connect({ host: '127.0.0.1', port, signal: controller.signal });
    t.after(() => client.destroy());
    const closed = once(client, 'close');
    controller.abort();
    await within(closed);
    await assert.rejects(client.show(), TftcpConnectionError);
  });
});

describe('TftcpClient arguments', () => {
  it('regression: a line break in a name or search text cannot smuggle a second command onto the connection', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'abc');
    const client = await connect(t, port);
    const controlChars = 'Invalid file name: the name must not contain control characters';
    await assert.rejects(client.download('a.txt\nexit'), isRefusal(controlChars, ErrorKind.INVALID_NAME));
    await assert.rejects(client.range('a.txt\r\nexit', 0, 1), isRefusal(controlChars, ErrorKind.INVALID_NAME));
    await assert.rejects(client.upload('b.txt\nexit', 1, Readable.from([Buffer.from('x')])), isRefusal(controlChars, ErrorKind.INVALID_NAME));
    await assert.rejects(client.search('a\nexit'), isRefusal(Reply.UNKNOWN, 'unknown-command'));
    // Still in step: the next replies belong to the next commands.
    assert.deepEqual((await client.show()).map((e) => e.name), ['a.txt']);
    assert.deepEqual(await buffer((await client.download('a.txt')).stream), Buffer.from('abc'));
    assert.equal(client.closed, false);
  });
});
