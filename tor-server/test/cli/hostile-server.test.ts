/**
 * Regression: tor-client printed server-supplied text (listing rows, reply lines, error
 * messages quoting what the server sent) verbatim, so a malicious server could clear the
 * screen, rewrite the title or reverse the text with escape sequences. Every such byte now
 * reaches the terminal escaped (`\x1b`, `\u202e`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Scope, scratchDir } from 'test-support';
import { runClient } from './helpers.js';

/** Clear screen (CSI), the one-byte C1 CSI, a right-to-left override, and a title change ending in BEL. */
const HOSTILE = '\x1b[2J\u009b31m\u202etxt.exe\x1b]0;pwned\x07';
/** Control characters a terminal acts on; output may keep only newlines and tabs. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

const sockets = new Set<net.Socket>();

/** A fake tor-server on 127.0.0.1 port 0 that answers every command with hostile text. */
function startHostileServer(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
        socket.write(answer(line));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function answer(line: string): string {
  const [word] = line.split(' ');
  switch (word) {
    case 'show':
      return `ok\nreport${HOSTILE}.pdf\t5\t2026-01-01T00:00:00.000Z\nend\n`;
    case 'search':
      return `File already exists: ${HOSTILE}\n`;
    case 'download':
      return `ok\nfound\n${HOSTILE}\n`;
    case 'upload':
      return `Invalid file name: ${HOSTILE}\n`;
    case 'exit':
      return 'exit\n';
    default:
      return `${HOSTILE}\n`;
  }
}

let server: net.Server;
let port: number;
let home: string;
const scope = new Scope();

before(async () => {
  server = await startHostileServer();
  port = (server.address() as net.AddressInfo).port;
  home = await scratchDir(scope, 'tor-cli-hostile-');
  await fs.mkdir(path.join(home, 'tor-files', 'Uploads'), { recursive: true });
  await fs.writeFile(path.join(home, 'tor-files', 'Uploads', 'a.txt'), 'a');
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  await scope.close();
});

for (const command of [['show'], ['--tsv', 'show'], ['search', 'report'], ['download', 'report.pdf'], ['upload', 'a.txt']]) {
  test(`tor-client ${command.join(' ')} prints a hostile server's text escaped`, async () => {
    const result = await runClient(['--host', '127.0.0.1', '--port', String(port), ...command], { cwd: home });
    const output = result.stdout + result.stderr;
    assert.notEqual(result.code, 0, 'the hostile answer is an error');
    assert.doesNotMatch(output, RAW_CONTROL, JSON.stringify(output));
    assert.match(output, /\\x1b\[2J\\x9b31m\\u202etxt\.exe\\x1b\]0;pwned\\x07/, output);
  });
}

test('the interactive prompt escapes the same text', async () => {
  const result = await runClient(['--host', '127.0.0.1', '--port', String(port)], { cwd: home, input: 'show\nsearch x\nexit\n' });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout + result.stderr, RAW_CONTROL, JSON.stringify(result.stdout + result.stderr));
});
