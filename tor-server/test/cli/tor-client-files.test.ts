import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Scope, eventually, scratchDir, sha256 } from 'test-support';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { startServer } from '../helpers.js';
import { CLIENT_BIN, SCREEN_WAIT_MS, runClient } from './helpers.js';

describe('tor-client file commands against a real tor-server', () => {
  const scope = new Scope();
  let port: number;
  let serverDir: string;
  let home: string;
  const payload = Buffer.from('the quick brown fox\n'.repeat(5000));

  before(async () => {
    ({ port, dir: serverDir } = await startServer(scope, { openAccess: 'admin' }));
    home = await scratchDir(scope, 'tor-cli-files-home-');
    await fs.writeFile(path.join(serverDir, 'fox notes.txt'), payload);
  });
  after(() => scope.close());

  const client = (...args: string[]) => runClient(['--host', '127.0.0.1', '--port', String(port), ...args], { cwd: home, env: { TZ: 'UTC' } });

  test('info prints size and time, --tsv the row; hash prints the sha256 as sha256sum does', async () => {
    const info = await client('info', 'fox notes.txt');
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^Name: {6}fox notes\.txt\nSize: {6}100 KB \(100000 bytes\)\nModified: {2}\d{4}-\d\d-\d\d \d\d:\d\d\n$/);
    const tsv = await client('--tsv', 'info', 'fox notes.txt');
    assert.match(tsv.stdout, /^fox notes\.txt\t100000\t\d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const hash = await client('hash', 'fox notes.txt');
    assert.equal(hash.code, 0, hash.stderr);
    assert.equal(hash.stdout, `${sha256(payload)}  fox notes.txt\n`);
    const missing = await client('hash', 'nope.txt');
    assert.deepEqual([missing.code, missing.stderr], [1, 'Not found file\n']);
  });

  test('rename takes quoted names with spaces; delete removes; a second try says Not found file', async () => {
    await fs.writeFile(path.join(serverDir, 'old name.txt'), 'x');
    const renamed = await client('rename', 'old name.txt', 'new name.txt');
    assert.deepEqual([renamed.code, renamed.stdout, renamed.stderr], [0, 'Renamed old name.txt to new name.txt\n', '']);
    assert.equal(await fs.readFile(path.join(serverDir, 'new name.txt'), 'utf8'), 'x');
    const again = await client('rename', 'old name.txt', 'other.txt');
    assert.deepEqual([again.code, again.stderr], [1, 'Not found file\n']);
    const taken = await client('rename', 'new name.txt', 'fox notes.txt');
    assert.deepEqual([taken.code, taken.stderr], [1, 'File already exists: fox notes.txt\n']);
    const deleted = await client('delete', 'new name.txt');
    assert.deepEqual([deleted.code, deleted.stdout], [0, 'Deleted new name.txt\n']);
    const gone = await client('delete', 'new name.txt');
    assert.deepEqual([gone.code, gone.stderr], [1, 'Not found file\n']);
  });

  test('at the prompt, rename needs quotes around names with spaces and says so without them', async () => {
    await fs.writeFile(path.join(serverDir, 'a b.txt'), 'ab');
    const result = await runClient(['--host', '127.0.0.1', '--port', String(port)], { cwd: home, input: 'rename a b.txt c.txt\nrename "a b.txt" \'c d.txt\'\nexit\n' });
    assert.match(result.stderr, /rename needs two names: rename <old> <new> \(put a name with spaces in quotes/);
    assert.match(result.stdout, /Renamed a b\.txt to c d\.txt/);
    assert.equal(await fs.readFile(path.join(serverDir, 'c d.txt'), 'utf8'), 'ab');
  });

  test('download --verify says verified sha256 <hex>', async () => {
    const result = await client('download', '--verify', 'fox notes.txt');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Saved tor-files\/Downloads\/fox notes\.txt \(100 KB in [\d.]+ s\)\nverified sha256 ([0-9a-f]{64})\n$/);
    assert.equal(/verified sha256 ([0-9a-f]{64})/.exec(result.stdout)![1], sha256(payload));
    assert.deepEqual(await fs.readFile(path.join(home, 'tor-files', 'Downloads', 'fox notes.txt')), payload);
  });

  test('download --verify with bytes that do not match: a clear failure, exit 1, nothing saved and no part kept', async () => {
    // A part file from an "earlier attempt" holding wrong bytes, with a sidecar that makes the client resume it.
    const downloads = path.join(home, 'tor-files', 'Downloads');
    const lister = await TftcpClient.connect({ host: '127.0.0.1', port });
    const entry = (await lister.show()).find((e) => e.name === 'fox notes.txt')!;
    await lister.exit();
    const id = sha256('fox notes.txt').slice(0, 16);
    await fs.writeFile(path.join(downloads, `.tor-part-${id}`), Buffer.alloc(1000, 0x21));
    await fs.writeFile(path.join(downloads, `.tor-part-${id}.json`), JSON.stringify({ name: entry.name, size: entry.size, modified: entry.modified }));
    const before = (await fs.readdir(downloads)).filter((n) => !n.startsWith('.')).sort();
    const result = await client('--verify', 'download', 'fox notes.txt');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^Verification failed: the downloaded bytes have sha256 [0-9a-f]{64}, but the server's sha256 is ${sha256(payload)}\\. Nothing was saved`));
    assert.deepEqual(await fs.readdir(downloads).then((names) => names.sort()), before);
  });

  test('watch prints each change as it happens until Ctrl-C, then exits 0', async () => {
    const child = spawn(process.execPath, [CLIENT_BIN, '--host', '127.0.0.1', '--port', String(port), 'watch'], { cwd: home, env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      await eventually(() => stderr.includes('press Ctrl-C to stop'), 'the watch started', SCREEN_WAIT_MS);
      const writer = await TftcpClient.connect({ host: '127.0.0.1', port });
      await writer.upload('w.txt', 3, [Buffer.from('abc')]);
      await writer.rename('w.txt', 'w 2.txt');
      await writer.delete('w 2.txt');
      await writer.exit();
      await eventually(() => stdout.split('\n').length > 3, 'three changes printed', SCREEN_WAIT_MS);
      const lines = stdout.split('\n');
      assert.match(lines[0]!, /^added {4}w\.txt \(3 B, \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
      assert.deepEqual(lines.slice(1, 3), ['renamed  w.txt -> w 2.txt', 'removed  w 2.txt']);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('tor-client against a server that gives write access', () => {
  test('delete and rename are refused with the server message, exit 1', async (t) => {
    const { port, dir } = await startServer(t);
    const home = await scratchDir(t, 'tor-cli-write-home-');
    {
      await fs.writeFile(path.join(dir, 'a.txt'), 'A');
      const run = (...args: string[]) => runClient(['--host', '127.0.0.1', '--port', String(port), ...args], { cwd: home });
      const deleted = await run('delete', 'a.txt');
      assert.deepEqual([deleted.code, deleted.stderr], [1, 'Permission denied: delete needs admin access (this server gives write)\n']);
      const renamed = await run('rename', 'a.txt', 'b.txt');
      assert.deepEqual([renamed.code, renamed.stderr], [1, 'Permission denied: rename needs admin access (this server gives write)\n']);
      assert.deepEqual(await fs.readdir(dir).then((names) => names.filter((n) => !n.startsWith('.'))), ['a.txt']);
    }
  });
});
