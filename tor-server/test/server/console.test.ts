import assert from 'node:assert/strict';
import { readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { eventually, scratchDir } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { CONSOLE_PROMPT, OperatorConsole, describeActivity, formatClientList } from '../../src/server/console.js';
import { LineClient, startServer, visibleNames, type TestServer } from '../helpers.js';
import { begin, put } from './resumable-helpers.js';
import { rawWatcher } from './watch-helpers.js';

/** A console on PassThrough streams, driven like an operator typing lines. */
async function startConsole(t: TestContext, server: TestServer['server']) {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const calls = { exit: 0, interrupt: 0 };
  const console_ = new OperatorConsole(server, {
    input,
    output,
    terminal: false,
    onExit: () => calls.exit++,
    onInterrupt: () => calls.interrupt++,
  });
  t.after(() => console_.close());
  return {
    console: console_,
    calls,
    /** Types a line and returns what the console printed in answer (up to its next prompt). */
    async type(line: string): Promise<string> {
      const start = text.length;
      input.write(`${line}\n`);
      await eventually(() => text.slice(start).endsWith(CONSOLE_PROMPT) || calls.exit > 0, `the console answered ${JSON.stringify(line)}`);
      const answer = text.slice(start);
      return answer.endsWith(CONSOLE_PROMPT) ? answer.slice(0, -CONSOLE_PROMPT.length) : answer;
    },
    output: () => text,
    end: () => input.end(),
  };
}

describe('operator console', () => {
  it('shows the prompt, and list names the store, then says when no client is online', async (t) => {
    const { server, dir } = await startServer(t, { store: 'fs' });
    const op = await startConsole(t, server);
    await eventually(() => op.output() === CONSOLE_PROMPT, 'the first prompt');
    assert.equal(await op.type('list'), `store fs ${await realpath(dir)} (local folder)\n0 clients online\n`);
  });

  it('list shows each client with address, port, connected-since and what it is doing', async (t) => {
    const { server, port, dir } = await startServer(t);
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(64 * 1024 * 1024));
    const op = await startConsole(t, server);
    const idle = await LineClient.connect(t, port);
    assert.equal(await idle.request('show'), Reply.OK);
    await idle.listing();
    const uploader = await LineClient.connect(t, port);
    assert.equal(await uploader.request('upload clip.mp4'), Reply.OK);
    assert.equal(await uploader.request('1000'), Reply.OK);
    uploader.send(Buffer.alloc(410));
    const downloader = await LineClient.connect(t, port);
    downloader.send('download big.bin\n');
    await downloader.lines(3);
    downloader.socket.pause();
    await eventually(
      () => [...server.connections].map((c) => describeActivity(c.activity)).some((a) => a === 'uploading clip.mp4 41%'),
      'the server has read 410 of 1000 bytes',
    );
    const answer = await op.type('list');
    const [, header, ...rows] = answer.trimEnd().split('\n');
    assert.equal(header, '3 clients online');
    assert.equal(rows.length, 3);
    const rowFor = (client: LineClient) => rows.find((row) => row.includes(`127.0.0.1:${client.socket.localPort} `));
    const since = /since \d\d:\d\d:\d\d \(\d+s\)/;
    assert.match(rowFor(idle)!, since);
    assert.match(rowFor(idle)!, /\sidle$/);
    assert.match(rowFor(uploader)!, /\suploading clip\.mp4 41%$/);
    assert.match(rowFor(downloader)!, /\sdownloading big\.bin \d+%$/);
  });

  it('exit is refused with the count while clients are online, and accepted when none is', async (t) => {
    const { server, port } = await startServer(t);
    const op = await startConsole(t, server);
    const a = await LineClient.connect(t, port);
    await eventually(() => server.connections.size === 1, 'one client');
    assert.match(await op.type('exit'), /^Cannot exit: 1 client is online\./);
    const b = await LineClient.connect(t, port);
    await eventually(() => server.connections.size === 2, 'two clients');
    assert.match(await op.type('exit'), /^Cannot exit: 2 clients are online\./);
    assert.equal(op.calls.exit, 0);
    for (const client of [a, b]) assert.equal(await client.request('exit'), Reply.EXIT);
    await eventually(() => server.connections.size === 0, 'the clients left');
    await op.type('exit');
    assert.equal(op.calls.exit, 1);
  });

  it('help lists the commands', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    const help = await op.type('help');
    for (const command of ['list', 'clear', 'exit', 'help']) assert.match(help, new RegExp(`^  ${command} `, 'm'));
  });

  it('unknown input gets a one-line hint; blank input nothing', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    assert.equal(await op.type('shutdown now'), 'Unknown command "shutdown now". Type help for the list of commands.\n');
    assert.equal(await op.type('  '), '');
    assert.match(await op.type('  list  '), /\n0 clients online\n$/);
  });

  it('clear writes the clear-screen sequence', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    assert.equal(await op.type('clear'), '\x1b[2J\x1b[3J\x1b[H');
  });

  it('the end of input (Ctrl-D) asks to exit', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    op.end();
    await eventually(() => op.calls.exit === 1, 'onExit was called');
  });

  it('list escapes control characters in what came from a client, so they reach the terminal as text', async (t) => {
    // Names from the wire are checked against the rules before any activity shows them; this is the
    // last line of defence, for any name or address that did reach the list.
    const rows = formatClientList(
      [
        { label: '127.0.0.1:4000', connectedAt: new Date('2026-11-25T08:00:00Z'), activity: { kind: 'uploading', name: 'a\x1b[2Jb\u202ec\u009b', total: 10, done: () => 5 } },
        { label: '\x1b]0;pwned\x07:1', connectedAt: new Date('2026-11-25T08:00:00Z'), activity: { kind: 'command', command: 'show\r' } },
      ],
      new Date('2026-11-25T08:00:05Z'),
    );
    assert.equal(
      rows,
      [
        '2 clients online',
        '  127.0.0.1:4000         since 08:00:00 (5s)  uploading a\\x1b[2Jb\\u202ec\\x9b 50%',
        '  \\x1b]0;pwned\\x07:1     since 08:00:00 (5s)  show\\x0d',
      ].join('\n'),
    );
    assert.doesNotMatch(rows, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('an unknown command is echoed with its control characters escaped', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    assert.equal(await op.type('\x1b[31mred\u009b'), 'Unknown command "\\x1b[31mred\\x9b". Type help for the list of commands.\n');
  });

  it('print writes a log line', async (t) => {
    const { server } = await startServer(t);
    const op = await startConsole(t, server);
    op.console.print('2026-11-25T08:00:00.000Z info connect client=127.0.0.1:5555 clients=1\n');
    await eventually(() => op.output().includes('info connect client=127.0.0.1:5555 clients=1\n'), 'the line was printed');
  });
});

describe('operator console file commands', () => {
  it('rm deletes a file and watchers see it; a missing file is Not found file', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'old report.pdf'), 'x');
    const { server, port } = await startServer(t, { dir });
    const op = await startConsole(t, server);
    const watcher = await rawWatcher(t, port);
    assert.equal(await op.type('rm old report.pdf'), 'Deleted old report.pdf\n');
    assert.equal(await watcher.client.line(), `removed ${watcher.seq + 1}\told report.pdf`);
    assert.deepEqual(await visibleNames(dir), []);
    assert.equal(await op.type('rm "old report.pdf"'), 'Not found file\n');
    assert.equal(await op.type('rm'), 'Usage: rm NAME (a name with spaces may be quoted)\n');
  });

  it('mv renames with quoted names, never over another file, and watchers see one renamed event', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'a b.txt'), 'A');
    await writeFile(path.join(dir, 'c.txt'), 'C');
    const { server, port } = await startServer(t, { dir });
    const op = await startConsole(t, server);
    const watcher = await rawWatcher(t, port);
    assert.equal(await op.type('mv "a b.txt" "d e.txt"'), 'Renamed a b.txt to d e.txt\n');
    assert.equal(await watcher.client.line(), `renamed ${watcher.seq + 1}\ta b.txt\td e.txt`);
    assert.equal(await op.type('mv "d e.txt" c.txt'), 'File already exists: c.txt\n');
    assert.equal(await op.type('mv missing.txt x.txt'), 'Not found file\n');
    assert.equal(await op.type('mv a b.txt c.txt'), 'Usage: mv OLD NEW (put a name with spaces in quotes: mv "old name.txt" "new name.txt")\n');
    assert.equal(await op.type('mv c.txt .hidden'), 'Invalid file name: .hidden: names starting with . are reserved\n');
    assert.deepEqual(await visibleNames(dir), ['c.txt', 'd e.txt']);
    assert.equal(await readFile(path.join(dir, 'c.txt'), 'utf8'), 'C');
  });

  it('list shows watchers, with when they began watching', async (t) => {
    const { server, port } = await startServer(t);
    const op = await startConsole(t, server);
    const watcher = await rawWatcher(t, port);
    const answer = await op.type('list');
    const [, header, row] = answer.trimEnd().split('\n');
    assert.equal(header, '1 client online (1 watching changes)');
    assert.match(row!, new RegExp(`127\\.0\\.0\\.1:${watcher.client.socket.localPort} +since \\d\\d:\\d\\d:\\d\\d \\(\\d+s\\)  watching changes since \\d\\d:\\d\\d:\\d\\d$`));
  });

  it('list shows unfinished resumable uploads with their progress, after the clients', async (t) => {
    const { server, port } = await startServer(t);
    const op = await startConsole(t, server);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, 400, undefined, 'half.bin');
    await put(client, id, 0, Buffer.alloc(100, 1));
    const answer = await op.type('list');
    const lines = answer.trimEnd().split('\n').slice(1);
    assert.equal(lines[0], '1 client online');
    assert.equal(lines[2], '1 unfinished upload');
    assert.match(lines[3]!, new RegExp(`^  half\\.bin 25% \\(100 of 400 bytes\\)  owner open  idle \\d+s  id ${id}$`));
  });
});

describe('operator console: tokens and share links', () => {
  it('token add prints the token once, list shows no secret, revoke closes an idle session at once', async (t) => {
    const { server, port } = await startServer(t);
    const console_ = await startConsole(t, server);
    const added = await console_.type('token add alice --access write');
    const token = /tft_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/.exec(added)![0];
    assert.match(added, /This token will not be shown again: copy it now\.\n$/);
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request(`auth ${token}`), await client.line()], ['ok', 'signed in as alice (write)']);
    const list = await console_.type('token list');
    assert.match(list, /alice\s+write\s+never\s+-\n$/);
    assert.ok(!list.includes(token));
    assert.equal(await client.request('share'), Reply.UNKNOWN);
    await writeFile(path.join(server.config.dir, 'a.txt'), 'a');
    assert.equal(await client.request('share a.txt'), 'ok');
    const shareId = /^share tft_([0-9a-f]{8})_/.exec(await client.line())![1]!;
    assert.match(await console_.type('share list'), new RegExp(`^${shareId}\ta\\.txt\tnever\t0/unlimited\n$`));
    assert.equal(await console_.type(`share revoke ${shareId}`), `Revoked share link ${shareId} (a.txt)\n`);
    assert.equal(await console_.type('token revoke alice'), `Revoked token ${token.split('_')[1]} (alice)\n`);
    assert.equal(await client.rest(), 'Permission denied: token revoked; sign in again with auth <token>\n');
  });
});
