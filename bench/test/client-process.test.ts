/**
 * The clients the benches time in processes of their own: a transfer runs in the child and
 * answers its MB/s, a failure there comes back with its message, and the child ends with its owner.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { Scope, scratchDir, sha256File, spawnTorServer } from 'test-support';
import { ClientProcess, writeRandomFile } from 'test-support/bench';

const SIZE = 2 * 1024 * 1024 + 5;

test('a client process uploads and downloads through a real tor-server, reports a refusal, and ends with its scope', async (t) => {
  const dir = await scratchDir(t, 'client-process-');
  const served = path.join(dir, 'served');
  await fs.mkdir(served);
  const source = path.join(dir, 'source.bin');
  await writeRandomFile(source, SIZE);
  const tor = await spawnTorServer(t, { dir: served, args: ['--log-level', 'warn'] });
  const scope = new Scope();
  const client = await ClientProcess.start(scope);

  assert.ok((await client.run({ op: 'tftcp-upload', port: tor.port, file: source, size: SIZE, name: 'up.bin' })) > 0);
  assert.equal(await sha256File(path.join(served, 'up.bin')), await sha256File(source));
  assert.ok((await client.run({ op: 'tftcp-download', port: tor.port, name: 'up.bin', size: SIZE })) > 0);
  assert.ok((await client.run({ op: 'raw-upload', port: tor.port, file: source, size: SIZE, name: 'raw.bin' })) > 0);
  assert.equal(await sha256File(path.join(served, 'raw.bin')), await sha256File(source));
  await assert.rejects(client.run({ op: 'raw-download', port: tor.port, name: 'raw.bin', size: SIZE + 1 }), /^Error: raw-download: raw reader got "ok \| found \| 2097157"/);
  // The process is still there for the next transfer after a failed one.
  assert.ok((await client.run({ op: 'raw-download', port: tor.port, name: 'raw.bin', size: SIZE })) > 0);

  const pid = client.pid;
  await scope.close();
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
});

test('a client process that dies midway fails its transfer with how it ended', async (t) => {
  // A server that accepts and never answers holds the transfer until the process is killed.
  const silent = net.createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.after(() => silent.close());
  const scope = new Scope();
  t.after(() => scope.close());
  const client = await ClientProcess.start(scope);
  const transfer = client.run({ op: 'tftcp-download', port: (silent.address() as net.AddressInfo).port, name: 'x.bin', size: 1 });
  await new Promise((resolve) => silent.once('connection', resolve));
  process.kill(client.pid, 'SIGKILL');
  await assert.rejects(transfer, /^Error: tftcp-download: the client process ended \(SIGKILL\) before its answer$/);
});
