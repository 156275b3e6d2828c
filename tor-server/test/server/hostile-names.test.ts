import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { scratchDir } from 'test-support';
import { ErrorKind, MAX_NAME_BYTES, Reply, errorReply } from '../../src/protocol/constants.js';
import { fileNameProblem } from '../../src/protocol/names.js';
import { LineClient, startServer, visibleNames } from '../helpers.js';

const HOSTILE = [
  '../x',
  '../../../../etc/passwd',
  '/etc/passwd',
  '.',
  '..',
  'a/b',
  'a\\b',
  '..\\..\\x',
  'nul\u0000byte',
  'bell\u0007',
  'esc\u001b[31m',
  'del\u007f',
  'cr\rmid',
  'tab\tname',
  'csi\u009b2J',
  'nel\u0085',
  'invoice\u202efdp.exe',
  'embed\u202ax',
  'isolate\u2066x\u2069',
  'a'.repeat(MAX_NAME_BYTES + 1),
  `${'€'.repeat(85)}a`,
  '.hidden',
  '.tor-tmp',
  '.tor-tmp/x.part',
];

function refusal(name: string): string {
  return errorReply(ErrorKind.INVALID_NAME, fileNameProblem(name));
}

describe('hostile names', () => {
  it('download refuses each with Invalid file name, and the connection stays usable', async (t) => {
    const { port, dir } = await startServer(t);
    await writeFile(path.join(dir, '.hidden'), 'hidden');
    const client = await LineClient.connect(t, port);
    for (const name of HOSTILE) assert.equal(await client.request(`download ${name}`), refusal(name), JSON.stringify(name));
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('range refuses each with Invalid file name', async (t) => {
    const { port, dir } = await startServer(t);
    await writeFile(path.join(dir, '.hidden'), 'hidden');
    const client = await LineClient.connect(t, port);
    for (const name of HOSTILE) assert.equal(await client.request(`range 0 10 ${name}`), refusal(name), JSON.stringify(name));
  });

  it('upload refuses each with Invalid file name and writes nothing anywhere', async (t) => {
    const { port, dir } = await startServer(t);
    const client = await LineClient.connect(t, port);
    for (const name of HOSTILE) assert.equal(await client.request(`upload ${name}`), refusal(name), JSON.stringify(name));
    // Not waiting for a size line after a refusal.
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    assert.deepEqual(await visibleNames(dir), []);
    await assert.rejects(access(path.join(dir, '..', 'x')));
  });

  it('a file on disk whose name the rules refuse is neither listed nor downloadable', async (t) => {
    const { port, dir } = await startServer(t);
    const refused = ['csi\u009b2J', 'invoice\u202efdp.exe', 'isolate\u2066x\u2069', 'esc\u001b[31m'];
    for (const name of refused) await writeFile(path.join(dir, name), 'on disk');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    for (const name of refused) {
      assert.equal(await client.request(`download ${name}`), refusal(name), JSON.stringify(name));
      assert.equal(await client.request(`range 0 1 ${name}`), refusal(name), JSON.stringify(name));
    }
  });

  it('a name of exactly 255 bytes of UTF-8 can be uploaded, listed and downloaded', async (t) => {
    const { port, dir } = await startServer(t);
    const name = '€'.repeat(MAX_NAME_BYTES / 3);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload(name, Buffer.from('long')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(await client.request('show'), Reply.OK);
    assert.equal((await client.listing())[0]!.split('\t')[0], name);
    assert.deepEqual(await client.download(`download ${name}`), Buffer.from('long'));
    assert.deepEqual(await visibleNames(dir), [name]);
  });

  it('a symlink placed in the folder pointing outside is neither listed nor served nor written through', async (t) => {
    const { port, dir } = await startServer(t);
    const outside = await scratchDir(t);
    await writeFile(path.join(outside, 'secret.txt'), 'secret');
    await mkdir(path.join(outside, 'sub'));
    await writeFile(path.join(outside, 'sub', 'inner.txt'), 'inner');
    await symlink(path.join(outside, 'secret.txt'), path.join(dir, 'link.txt'));
    await symlink(path.join(outside, 'sub'), path.join(dir, 'linkdir'));
    await writeFile(path.join(dir, 'real.txt'), 'real');
    await symlink('real.txt', path.join(dir, 'inside-link.txt'));
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['real.txt']);
    for (const name of ['link.txt', 'linkdir', 'inside-link.txt']) {
      assert.deepEqual([await client.request(`download ${name}`), await client.line()], [Reply.OK, Reply.NOT_FOUND], name);
      assert.deepEqual([await client.request(`range 0 3 ${name}`), await client.line()], [Reply.OK, Reply.NOT_FOUND], name);
      assert.equal(await client.request(`upload ${name}`), errorReply(ErrorKind.FILE_EXISTS, name), name);
    }
    assert.equal(await readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
  });

  it('a named pipe in the folder is not served and does not block the server', async (t) => {
    const { port, dir } = await startServer(t);
    const pipe = path.join(dir, 'pipe');
    await promisify(execFile)('mkfifo', [pipe]);
    await writeFile(path.join(dir, 'real.txt'), 'real');
    try {
      const client = await LineClient.connect(t, port);
      assert.equal(await client.request('show'), Reply.OK);
      assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['real.txt']);
      // Several at once: each would hold one of libuv's four fs threads if opening the pipe waited for a writer.
      const others = await Promise.all([1, 2, 3, 4, 5].map(() => LineClient.connect(t, port)));
      for (const other of others) other.send('download pipe\n');
      for (const other of others) assert.deepEqual(await other.lines(2), [Reply.OK, Reply.NOT_FOUND]);
      assert.deepEqual(await client.download('download real.txt'), Buffer.from('real'));
    } finally {
      // If the server did block on the pipe, open it read-write from another process (never blocks) so that
      // the stuck opens return and the test fails instead of hanging its clean-up.
      await promisify(execFile)('sh', ['-c', 'exec 3<>"$1"', 'sh', pipe], { timeout: 2000 }).catch(() => {});
    }
  });
});
