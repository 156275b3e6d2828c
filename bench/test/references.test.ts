/**
 * The table's lean references and curl rows against real servers: a bare socket uploading to
 * and downloading from the built tor-server, and curl storing into and fetching from nginx's dav.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Scope, scratchDir, sha256File, spawnTorServer } from 'test-support';
import { nginxAcceptingPuts, nginxInstalled, nginxServing, rawSocketDownload, rawSocketUpload, writeRandomFile } from 'test-support/bench';
import { curlGet, curlInstalled, curlPut } from '../curl.js';

const SIZE = 3 * 1024 * 1024 + 17;

test('the raw socket writer stores the exact bytes, the raw reader reads them back, and a refusal names the reply', async (t) => {
  const dir = await scratchDir(t, 'raw-refs-');
  const served = path.join(dir, 'served');
  await fs.mkdir(served);
  const source = path.join(dir, 'source.bin');
  await writeRandomFile(source, SIZE);
  const tor = await spawnTorServer(t, { dir: served, args: ['--log-level', 'warn'] });

  assert.ok((await rawSocketUpload(tor.port, source, SIZE, 'up.bin')) > 0);
  assert.equal(await sha256File(path.join(served, 'up.bin')), await sha256File(source));
  assert.ok((await rawSocketDownload(tor.port, 'up.bin', SIZE)) > 0);
  await assert.rejects(rawSocketUpload(tor.port, source, SIZE, 'up.bin'), /upload up\.bin answered "File already exists: up\.bin/);
  await assert.rejects(rawSocketDownload(tor.port, 'up.bin', SIZE + 1), /raw reader got "ok \| found \| 3145745"/);
});

test('curl -T into nginx (dav) stores the exact bytes, and curl fetches them back with their size checked', async (t) => {
  if (!nginxInstalled()) return t.skip('nginx not installed');
  if (!curlInstalled()) return t.skip('curl not installed');
  const scope = new Scope();
  t.after(() => scope.close());
  const dir = await scratchDir(t, 'nginx-refs-');
  const root = path.join(dir, 'root');
  await fs.mkdir(root);
  const source = path.join(dir, 'source.bin');
  await writeRandomFile(source, SIZE);
  const putPort = await nginxAcceptingPuts(scope, path.join(dir, 'put-prefix'), root);
  const getPort = await nginxServing(scope, path.join(dir, 'get-prefix'), root);

  assert.ok((await curlPut(`http://127.0.0.1:${putPort}/up.bin`, source, SIZE)) > 0);
  assert.equal(await sha256File(path.join(root, 'up.bin')), await sha256File(source));
  assert.ok((await curlGet(`http://127.0.0.1:${getPort}/up.bin`, SIZE)) > 0);
  await assert.rejects(curlGet(`http://127.0.0.1:${getPort}/up.bin`, SIZE + 1), /status 200, 3145745 of 3145746 bytes/);
  await assert.rejects(curlGet(`http://127.0.0.1:${getPort}/missing.bin`, SIZE), /status 404/);
  // An existing name is replaced by dav (204, not 201): the bench deletes each upload between rounds.
  await assert.rejects(curlPut(`http://127.0.0.1:${putPort}/up.bin`, source, SIZE), /status 204/);
});
