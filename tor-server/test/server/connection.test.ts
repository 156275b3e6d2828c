import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, WAIT_MS, within } from 'test-support';
import { ErrorKind, MAX_LINE_BYTES, Reply, errorKindOf, errorReply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes, placeFile, startServer, storedNames, tempFolderEmpty } from '../helpers.js';

describe('command lines', () => {
  it('unknown words, wrong case, missing or extra arguments get the unknown-command reply and the connection stays usable', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    for (const line of ['', 'list', 'SHOW', 'Show', ' show', 'show all', 'exit now', 'download', 'upload', 'search', 'remove a.txt', 'show\r\r', 'help'])
      assert.equal(await client.request(line), Reply.UNKNOWN, JSON.stringify(line));
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('accepts CRLF line endings', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a b.txt', 'abc');
    const client = await LineClient.connect(t, port);
    client.send('show\r\n');
    assert.equal(await client.line(), Reply.OK);
    assert.equal((await client.listing()).length, 1);
    client.send('download a b.txt\r\n');
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.FOUND, '3']);
    assert.deepEqual(await client.bytes(3), Buffer.from('abc'));
    client.send('upload c.txt\r\n2\r\nhi');
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.OK, Reply.END]);
    client.send('exit\r\n');
    assert.equal(await client.line(), Reply.EXIT);
    assert.equal(await client.rest(), '');
  });

  it('answers pipelined commands in order, from one write', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'AAAA');
    const client = await LineClient.connect(t, port);
    client.send('show\nbogus\ndownload a.txt\nrange 1 2 a.txt\ndownload nope\nupload b.txt\n3\nxyzsearch b\nexit\nshow\n');
    assert.equal(await client.line(), Reply.OK);
    assert.equal((await client.listing()).length, 1);
    assert.equal(await client.line(), Reply.UNKNOWN);
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.FOUND, '4']);
    assert.deepEqual(await client.bytes(4), Buffer.from('AAAA'));
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.FOUND, '2']);
    assert.deepEqual(await client.bytes(2), Buffer.from('AA'));
    assert.deepEqual(await client.lines(2), [Reply.OK, Reply.NOT_FOUND]);
    assert.deepEqual(await client.lines(4), [Reply.OK, Reply.OK, Reply.END, Reply.OK]);
    assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['b.txt']);
    assert.equal(await client.line(), Reply.EXIT);
    // Nothing after exit is answered.
    assert.equal(await client.rest(), '');
  });

  it('a client that half-closes after its commands (echo show | nc) still gets every reply', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'abc');
    const client = await LineClient.connect(t, port);
    client.socket.end('download a.txt\nupload b.txt\n5\nhello');
    const rest = await client.rest();
    assert.equal(rest, `${Reply.OK}\n${Reply.FOUND}\n3\nabc${Reply.OK}\n${Reply.OK}\n${Reply.END}\n`);
    assert.deepEqual(await storedNames(server), ['a.txt', 'b.txt']);
  });

  it('a line that is not UTF-8 gets the unknown-command reply, even one hiding a / as an overlong sequence', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    client.send(Buffer.concat([Buffer.from('download ..'), Buffer.from([0xc0, 0xaf]), Buffer.from('etc\n')]));
    client.send(Buffer.concat([Buffer.from('upload a'), Buffer.from([0xff]), Buffer.from('\n')]));
    assert.deepEqual(await client.lines(2), [Reply.UNKNOWN, Reply.UNKNOWN]);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('exit is acknowledged, then the server closes the connection', async (t) => {
    const { port, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('exit'), Reply.EXIT);
    assert.equal(await client.rest(), '');
    await client.closed();
    await eventually(() => server.connections.size === 0, 'the server forgot the client');
  });

  it(`a line of exactly ${MAX_LINE_BYTES} bytes is read as a command`, async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    const search = `search ${'x'.repeat(MAX_LINE_BYTES - 'search '.length)}`;
    assert.equal(Buffer.byteLength(search), MAX_LINE_BYTES);
    assert.equal(await client.request(search), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    client.send(`${search}\r\n`);
    assert.equal(await client.line(), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('a line over the limit gets the unknown-command reply and that connection closes; another client keeps working', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'a');
    const bystander = await LineClient.connect(t, port);
    assert.equal(await bystander.request('show'), Reply.OK);
    await bystander.listing();
    for (const flood of [`search ${'x'.repeat(MAX_LINE_BYTES - 'search '.length + 1)}\n`, 'y'.repeat(100_000), `${'z'.repeat(MAX_LINE_BYTES + 1)}\nshow\n`]) {
      const client = await LineClient.connect(t, port);
      client.send(flood);
      assert.equal(await client.line(), Reply.UNKNOWN);
      assert.equal(await client.rest(), '');
    }
    assert.deepEqual(await bystander.download('download a.txt'), Buffer.from('a'));
  });

  it('binary garbage gets unknown-command replies, one per line, and the server stays up', async (t) => {
    const { port } = await startServer(t);
    const garbage = patternBytes(20_000, 99);
    const lineCount = garbage.filter((b) => b === 0x0a).length;
    const longest = Math.max(...garbage.toString('latin1').split('\n').map((part) => part.length));
    assert.ok(lineCount > 10 && longest < MAX_LINE_BYTES, 'the garbage has many short lines');
    const client = await LineClient.connect(t, port);
    client.send(Buffer.concat([garbage, Buffer.from('\nshow\n')]));
    const replies = await client.lines(lineCount + 2);
    assert.deepEqual(new Set(replies), new Set([Reply.UNKNOWN, Reply.OK]));
    assert.equal(replies.filter((r) => r === Reply.UNKNOWN).length, lineCount + 1);
    assert.equal(replies.at(-1), Reply.OK);
    assert.deepEqual(await client.listing(), []);

    const flood = await LineClient.connect(t, port);
    flood.send(Buffer.alloc(MAX_LINE_BYTES * 3, 0));
    assert.equal(await flood.line(), Reply.UNKNOWN);
    assert.equal(await flood.rest(), '');

    const after = await LineClient.connect(t, port);
    assert.equal(await after.request('show'), Reply.OK);
  });
});

describe('limits and timeouts', () => {
  it('a client beyond maxClients gets a Too many clients line and is closed; a free slot is given again', async (t) => {
    const { port, server } = await startServer(t, { maxClients: 2 });
    const a = await LineClient.connect(t, port);
    const b = await LineClient.connect(t, port);
    assert.equal(await a.request('show'), Reply.OK);
    assert.deepEqual(await a.listing(), []);
    assert.equal(await b.request('show'), Reply.OK);
    assert.deepEqual(await b.listing(), []);
    const extra = await LineClient.connect(t, port);
    const refused = await extra.line();
    assert.equal(refused, errorReply(ErrorKind.TOO_MANY_CLIENTS, 'the server allows 2, try again later'));
    assert.equal(errorKindOf(refused), ErrorKind.TOO_MANY_CLIENTS);
    assert.equal(await extra.rest(), '');
    assert.equal(await a.request('exit'), Reply.EXIT);
    await eventually(() => server.connections.size === 1, 'a left');
    const next = await LineClient.connect(t, port);
    assert.equal(await next.request('show'), Reply.OK);
  });

  it('a client silent for the idle timeout gets an Idle timeout line and is closed', async (t) => {
    const { port, server } = await startServer(t, { idleTimeoutMs: 300 });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    await client.listing();
    assert.equal(await client.line(), errorReply(ErrorKind.IDLE_TIMEOUT, 'closing the connection'));
    assert.equal(await client.rest(), '');
    await eventually(() => server.connections.size === 0, 'the idle client is gone');
  });

  it('an uploader that stalls mid-bytes is cut after the stall timeout and leaves nothing behind', async (t) => {
    const { port, dir, server } = await startServer(t, { stallTimeoutMs: 300 });
    const client = await LineClient.connect(t, port);
    // One write, so a slow test machine cannot look like a stall before the bytes begin.
    client.send(Buffer.concat([Buffer.from('upload stalled.bin\n100000\n'), patternBytes(1000)]));
    assert.deepEqual(await client.lines(2), [Reply.OK, Reply.OK]);
    // No reply line can be framed mid-transfer: the server just closes.
    assert.equal(await client.rest(), '');
    await eventually(() => server.connections.size === 0, 'the stalled uploader is gone');
    await tempFolderEmpty(dir);
    assert.deepEqual(await storedNames(server), []);
    const next = await LineClient.connect(t, port);
    assert.deepEqual(await next.upload('stalled.bin', Buffer.from('now whole')), [Reply.OK, Reply.OK, Reply.END]);
  });

  it('an uploader that never sends its size line is closed', async (t) => {
    const { port, server } = await startServer(t, { stallTimeoutMs: 300 });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload never.bin'), Reply.OK);
    const line = await client.line();
    assert.ok(errorKindOf(line) !== undefined, line);
    assert.equal(await client.rest(), '');
    assert.deepEqual(await storedNames(server), []);
  });

  it('a downloader that stops reading is cut after the stall timeout; other clients are served meanwhile', async (t) => {
    const { port, server } = await startServer(t, { stallTimeoutMs: 300 });
    // Larger than every socket buffer between the two ends, so the server's writes must block.
    const size = 64 * 1024 * 1024;
    await placeFile(server, 'big.bin', Buffer.alloc(size, 1));
    await placeFile(server, 'small.txt', 'small');
    const client = await LineClient.connect(t, port);
    client.send('download big.bin\n');
    await client.lines(3);
    client.socket.pause();
    const other = await LineClient.connect(t, port);
    assert.deepEqual(await other.download('download small.txt'), Buffer.from('small'));
    await eventually(() => server.connections.size === 1, 'the stalled downloader was cut');
    client.socket.resume();
    // The cut client gets fewer bytes than announced, then the end of the connection.
    const rest = await client.rest();
    assert.ok(rest.length < size, `got ${rest.length} of ${size} bytes`);
    assert.equal(await other.request('show'), Reply.OK);
  });
});

describe('first command deadline and lines that trickle in', () => {
  const FIRST_COMMAND_TIMEOUT = errorReply(ErrorKind.IDLE_TIMEOUT, 'no command within 0.5 s, closing the connection');

  it('a connection that sends no command within the first-command timeout gets an Idle timeout line and is closed', async (t) => {
    const { port, server } = await startServer(t, { firstCommandTimeoutMs: 500 });
    const silent = await LineClient.connect(t, port);
    assert.equal(await silent.line(), FIRST_COMMAND_TIMEOUT);
    assert.equal(await silent.rest(), '');
    await eventually(() => server.connections.size === 0, 'the silent connection is gone');
  });

  it('once a command has come, the idle timeout governs, not the first-command deadline', async (t) => {
    // A whole second, so that `active` surely gets its command in on a loaded machine.
    const { port, server } = await startServer(t, { firstCommandTimeoutMs: 1000 });
    const active = await LineClient.connect(t, port);
    assert.equal(await active.request('show'), Reply.OK);
    await active.listing();
    // Connected after `active`, so when its deadline has passed, so has the one `active` would have had.
    const silent = await LineClient.connect(t, port);
    assert.equal(await silent.line(), errorReply(ErrorKind.IDLE_TIMEOUT, 'no command within 1 s, closing the connection'));
    await silent.closed();
    assert.equal(active.ended, false);
    assert.equal(await active.request('show'), Reply.OK);
    assert.deepEqual(await active.listing(), []);
    assert.equal(server.connections.size, 1);
  });

  it('a first line sent a byte at a time does not extend the deadline (slowloris)', async (t) => {
    const { port } = await startServer(t, { firstCommandTimeoutMs: 500 });
    const client = await LineClient.connect(t, port);
    const drip = dripBytes(client, 'search never ending line');
    t.after(() => clearInterval(drip));
    assert.equal(await client.line(), FIRST_COMMAND_TIMEOUT);
    assert.equal(await client.rest(), '');
  });

  it('lines that are not commands do not buy the idle timeout', async (t) => {
    const { port } = await startServer(t, { firstCommandTimeoutMs: 500 });
    const client = await LineClient.connect(t, port);
    const nonsense = setInterval(() => client.send('nonsense\n'), 50);
    t.after(() => clearInterval(nonsense));
    const firstOther = async () => {
      let line = await client.line();
      while (line === Reply.UNKNOWN) line = await client.line();
      return line;
    };
    assert.equal(await within(firstOther(), WAIT_MS, 'a reply other than the unknown-command one'), FIRST_COMMAND_TIMEOUT);
    await client.closed();
  });

  it('after a command, a next line sent a byte at a time is closed at the idle timeout', async (t) => {
    const { port } = await startServer(t, { idleTimeoutMs: 500 });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    await client.listing();
    const drip = dripBytes(client, 'search never ending line');
    t.after(() => clearInterval(drip));
    assert.equal(await client.line(), errorReply(ErrorKind.IDLE_TIMEOUT, 'closing the connection'));
    assert.equal(await client.rest(), '');
  });

  it('an upload whose size line arrives a byte at a time is closed after the stall timeout and frees the name', async (t) => {
    const { port, server } = await startServer(t, { stallTimeoutMs: 500 });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload slow.bin'), Reply.OK);
    const drip = dripBytes(client, '1234567890123');
    t.after(() => clearInterval(drip));
    assert.equal(await client.line(), errorReply(ErrorKind.IDLE_TIMEOUT, 'closing the connection'));
    assert.equal(await client.rest(), '');
    const next = await LineClient.connect(t, port);
    assert.deepEqual(await next.upload('slow.bin', Buffer.from('fast')), [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual(await storedNames(server), ['slow.bin']);
  });
});

/** Sends `text` one byte every 50 ms, never its line end: each byte is progress, the line never completes. */
function dripBytes(client: LineClient, text: string): NodeJS.Timeout {
  let i = 0;
  return setInterval(() => {
    if (!client.ended) client.send(text[i++ % text.length]!);
  }, 50);
}
