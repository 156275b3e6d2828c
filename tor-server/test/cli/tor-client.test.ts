import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Scope, scratchDir } from 'test-support';
import { ErrorKind, Reply } from '../../src/protocol/constants.js';
import type { TorServer } from '../../src/server/server.js';
import { startServer } from '../helpers.js';
import { runClient } from './helpers.js';

describe('tor-client one-shot mode against a real tor-server', () => {
  let server: TorServer;
  let port: number;
  let serverDir: string;
  let home: string;
  const payload = randomBytes(1_500_000);
  const scope = new Scope();

  before(async () => {
    ({ server, port, dir: serverDir } = await startServer(scope, { maxFileSize: 2_000_000 }));
    home = await scratchDir(scope, 'tor-cli-home-');
    await fs.mkdir(path.join(home, 'tor-files', 'Uploads'), { recursive: true });
    await fs.writeFile(path.join(home, 'tor-files', 'Uploads', 'report 2026.bin'), payload);
  });
  after(() => scope.close());

  const client = (...args: string[]) => runClient(['--host', '127.0.0.1', '--port', String(port), ...args], { cwd: home });

  test('creates tor-files/Downloads and Uploads in the working folder', async (t) => {
    const cwd = await scratchDir(t, 'tor-cli-fresh-');
    const result = await runClient(['--host', '127.0.0.1', '--port', String(port), 'show'], { cwd });
    assert.equal(result.code, 0);
    assert.ok((await fs.stat(path.join(cwd, 'tor-files', 'Downloads'))).isDirectory());
    assert.ok((await fs.stat(path.join(cwd, 'tor-files', 'Uploads'))).isDirectory());
    assert.equal(result.stdout.trim(), 'No files.');
  });

  test('upload sends the file from Uploads and the server stores identical bytes', async () => {
    const result = await client('upload', 'report 2026.bin');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Uploaded report 2026\.bin \(1\.5 MB in [\d.]+ s\)$/m);
    assert.deepEqual(await fs.readFile(path.join(serverDir, 'report 2026.bin')), payload);
  });

  test('a refused upload exits 1 with the server message verbatim', async () => {
    const result = await client('upload', 'report 2026.bin');
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), `${ErrorKind.FILE_EXISTS}: report 2026.bin`);
  });

  test('show prints an aligned table, --tsv the raw rows', async () => {
    const table = await client('show');
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^Name\s+Size\s+Modified\nreport 2026\.bin\s+1\.5 MB\s+\d{4}-\d\d-\d\d \d\d:\d\d\n1 file, 1\.5 MB\n$/);
    const tsv = await client('--tsv', 'search', 'REPORT');
    assert.match(tsv.stdout, /^report 2026\.bin\t1500000\t\d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
  });

  test('download saves identical bytes, then never overwrites: name (1).ext', async () => {
    const first = await client('download', 'report 2026.bin');
    assert.equal(first.code, 0, first.stderr);
    const second = await client('download', 'report 2026.bin');
    assert.equal(second.code, 0, second.stderr);
    const downloads = path.join(home, 'tor-files', 'Downloads');
    assert.deepEqual((await fs.readdir(downloads)).sort(), ['report 2026 (1).bin', 'report 2026.bin']);
    assert.deepEqual(await fs.readFile(path.join(downloads, 'report 2026.bin')), payload);
    assert.deepEqual(await fs.readFile(path.join(downloads, 'report 2026 (1).bin')), payload);
  });

  test('a missing file exits 1 with the server reply', async () => {
    const result = await client('download', 'nope.txt');
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), Reply.NOT_FOUND);
  });

  test('a file over the size limit is refused by the server', async () => {
    await fs.writeFile(path.join(home, 'tor-files', 'Uploads', 'huge.bin'), Buffer.alloc(2_000_001));
    const result = await client('upload', 'huge.bin');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^${ErrorKind.TOO_LARGE}: `));
    assert.deepEqual((await fs.readdir(serverDir)).filter((n) => n.startsWith('huge')), []);
  });

  test('a missing local file and an unknown command are explained', async () => {
    const missing = await client('upload', 'ghost.bin');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No file "ghost\.bin" in .*Uploads/);
    const unknown = await client('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  });

  test('no server at the address exits 3 with a clear message, not a stack trace', async (t) => {
    const closed = await startServer(t);
    await closed.server.close(0);
    const result = await runClient(['--host', '127.0.0.1', '--port', String(closed.port), 'show'], { cwd: home });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /no tor-server is listening at 127\.0\.0\.1:\d+/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('the prompt runs commands one after another until exit', async () => {
    const result = await runClient(['--host', '127.0.0.1', '--port', String(port)], {
      cwd: home,
      input: 'show\nsearch zzz\nbogus\nsearch 2026\nexit\n',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Connected to 127\.0\.0\.1:\d+\. Type help for the commands\.\n>> /);
    assert.match(result.stdout, /No files\./);
    assert.equal(result.stdout.match(/report 2026\.bin\s+1\.5 MB/g)?.length, 2);
    assert.match(result.stderr, /Unknown command "bogus"/);
  });
});
