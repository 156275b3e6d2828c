import assert from 'node:assert/strict';
import { readdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, scratchDir, spawnTorServer, within } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, patternBytes, runBin, startServer, visibleNames } from '../helpers.js';

// These spawn dist/bin/tor-server.js: run `npm run build -w tor-server` first.
describe('tor-server bin', () => {
  it('prints one listening line with the absolute folder, serves it, and logs connections as logfmt', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'hello.txt'), 'hello');
    const spawned = await spawnTorServer(t, { dir });
    assert.equal(spawned.servedDir, await realpath(dir));
    assert.match(spawned.stdout(), /^tor-server listening on 127\.0\.0\.1:\d+, serving \S+\n/);
    const client = await LineClient.connect(t, spawned.port);
    assert.deepEqual(await client.download('download hello.txt'), Buffer.from('hello'));
    assert.equal(await client.request('exit'), Reply.EXIT);
    await eventually(() => / info disconnect client=127\.0\.0\.1:\d+ clients=0\n/.test(spawned.stdout()), 'the disconnect is logged');
    assert.match(spawned.stdout(), /^\d{4}-\d\d-\d\dT[\d:.]+Z info connect client=127\.0\.0\.1:\d+ clients=1$/m);
    assert.match(spawned.stdout(), / info transfer client=\S+ direction=download name=hello\.txt bytes=5 /);
  });

  it('regression: keeps serving after whoever read its log closed the pipe (EPIPE)', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'hello.txt'), 'hello');
    const spawned = await spawnTorServer(t, { dir });
    spawned.child.stdout!.destroy();
    // Every connection and command now logs into a closed pipe.
    for (let i = 0; i < 20; i++) {
      const client = await LineClient.connect(t, spawned.port);
      assert.deepEqual(await client.download('download hello.txt'), Buffer.from('hello'));
      assert.equal(await client.request('exit'), Reply.EXIT);
    }
    assert.equal(spawned.child.exitCode, null, `the server exited: ${spawned.stderr()}`);
  });

  it('takes TOR_HOST, TOR_PORT and TOR_DIR from the environment', async (t) => {
    const dir = path.join(await scratchDir(t), 'created');
    const spawned = await spawnTorServer(t, { env: { TOR_HOST: '127.0.0.1', TOR_PORT: '0', TOR_DIR: dir } });
    assert.equal(spawned.servedDir, dir);
    const client = await LineClient.connect(t, spawned.port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await visibleNames(dir), []);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 on ${signal}, closing idle clients`, async (t) => {
      const spawned = await spawnTorServer(t, { dir: await scratchDir(t) });
      const client = await LineClient.connect(t, spawned.port);
      assert.equal(await client.request('show'), Reply.OK);
      await client.listing();
      spawned.child.kill(signal);
      assert.equal(await within(spawned.exited), 0);
      assert.equal(await client.rest(), '');
    });
  }

  it('on SIGTERM cuts an upload stalled past the grace, exits 0, and leaves no file and no temp file', async (t) => {
    const dir = await scratchDir(t);
    const spawned = await spawnTorServer(t, { dir, args: ['--shutdown-grace', '0.2'] });
    const client = await LineClient.connect(t, spawned.port);
    assert.equal(await client.request('upload cut.bin'), Reply.OK);
    assert.equal(await client.request('1000000'), Reply.OK);
    client.send(patternBytes(1000));
    await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 1, 'the upload is under way');
    spawned.child.kill('SIGTERM');
    assert.equal(await within(spawned.exited), 0);
    assert.deepEqual(await visibleNames(dir), []);
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
  });

  it('exits 2 with a message naming the flag on a bad value or an unknown flag', async (t) => {
    const bad = await runBin(t, ['--port', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^tor-server: --port \(TOR_PORT\): "abc" is not a valid value\n/);
    assert.match(bad.stderr, /Usage: tor-server/);
    const unknown = await runBin(t, ['--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^tor-server: .*--bogus/);
    const env = await runBin(t, [], { TOR_MAX_CLIENTS: '0' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /--max-clients \(TOR_MAX_CLIENTS\): "0"/);
  });

  it('--help prints the usage and exits 0', async (t) => {
    const help = await runBin(t, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tor-server/);
  });

  it('a port in use gives a clear message and exit code 1', async (t) => {
    const { port } = await startServer(t);
    const result = await runBin(t, ['--host', '127.0.0.1', '--port', String(port), '--dir', await scratchDir(t)]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `tor-server: port ${port} on 127.0.0.1 is already in use. Stop the other server or choose another port with --port.\n`);
  });
});
