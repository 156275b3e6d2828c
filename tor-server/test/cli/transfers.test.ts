import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Scope, scratchDir } from 'test-support';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { TftcpConnectionError } from '../../src/client/errors.js';
import { downloadFile, ensureFolders, type ClientFolders } from '../../src/cli/transfers.js';
import type { TorServer } from '../../src/server/server.js';
import { startServer } from '../helpers.js';

let server: TorServer;
let port: number;
let serverDir: string;
let home: string;
let folders: ClientFolders;
const payload = randomBytes(8 * 1024 * 1024);

const scope = new Scope();

before(async () => {
  ({ server, port, dir: serverDir } = await startServer(scope));
  await fs.writeFile(path.join(serverDir, 'movie.mkv'), payload);
  home = await scratchDir(scope, 'tor-cli-resume-');
  folders = await ensureFolders(home);
});
after(() => scope.close());

const connect = () => TftcpClient.connect({ host: '127.0.0.1', port });

test('a download cut by a lost connection resumes with range and ends byte-identical', async () => {
  const first = await connect();
  let cutAt = 0;
  await assert.rejects(
    downloadFile(first, 'movie.mkv', folders, {
      progress: (done) => {
        if (done >= 2 * 1024 * 1024 && cutAt === 0) {
          cutAt = done;
          first.destroy();
        }
      },
    }),
    (error: unknown) => error instanceof TftcpConnectionError && /was lost after \d+ of 8388608 bytes/.test(error.message),
  );
  // Nothing visible under the real name yet; only the hidden part file.
  assert.deepEqual((await fs.readdir(folders.downloads)).filter((n) => !n.startsWith('.')), []);
  // Bytes still in the write buffer at the cut are dropped whole: the part is an exact prefix, never a gap.
  const [part] = (await fs.readdir(folders.downloads)).filter((n) => n.startsWith('.tor-part-') && !n.endsWith('.json'));
  const kept = await fs.readFile(path.join(folders.downloads, part!));
  assert.ok(kept.length > 0 && kept.length <= cutAt, `the part holds ${kept.length} bytes, cut at ${cutAt}`);
  assert.ok(kept.equals(payload.subarray(0, kept.length)), 'the part file is the first bytes of the file');

  const second = await connect();
  let startedAt = -1;
  const result = await downloadFile(second, 'movie.mkv', folders, { start: (_total, done) => (startedAt = done) });
  await second.exit();
  // Progress counts bytes as they arrive; the part file holds what reached the disk before the cut.
  assert.ok(result.resumedFrom > 0 && result.resumedFrom < payload.length, `resumed from ${result.resumedFrom}`);
  assert.equal(startedAt, result.resumedFrom);
  assert.equal(result.size, payload.length);
  assert.deepEqual(await fs.readFile(path.join(folders.downloads, 'movie.mkv')), payload);
  assert.deepEqual(await fs.readdir(folders.downloads), ['movie.mkv'], 'part file and sidecar are gone');
});

test('a part file for a file that changed on the server is not resumed', async () => {
  const name = 'notes.bin';
  const one = randomBytes(4 * 1024 * 1024);
  const two = randomBytes(one.length);
  await fs.writeFile(path.join(serverDir, name), one);
  const first = await connect();
  await assert.rejects(downloadFile(first, name, folders, { progress: (done) => done >= 1024 * 1024 && first.destroy() }));
  // Same size, new content and a different modification time.
  await fs.rm(path.join(serverDir, name));
  await fs.writeFile(path.join(serverDir, name), two);
  await fs.utimes(path.join(serverDir, name), new Date(), new Date(Date.now() + 60_000));
  const second = await connect();
  const result = await downloadFile(second, name, folders);
  await second.exit();
  assert.equal(result.resumedFrom, 0);
  assert.deepEqual(await fs.readFile(path.join(folders.downloads, name)), two);
});
