/**
 * Regression: Ctrl-C during a transfer at the `>> ` prompt was ignored (the transfer went on)
 * and the prompt stopped answering afterwards. Now it cancels the transfer, says so in one
 * line, and the prompt carries on; in one-shot mode it cancels and exits 130.
 *
 * Each test drives the real tor-client on a pseudo-terminal against a real tor-server behind
 * a relay that holds the transfer midway, so Ctrl-C always lands during it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, scratchDir } from 'test-support';
import { RESUMABLE_THRESHOLD } from '../../src/cli/resumable-upload.js';
import { patternBytes, startServer, tempFolderEmpty, visibleNames } from '../helpers.js';
import { TtyClient, startValve, type Valve } from './helpers.js';

const CTRL_C = '\x03';
const TEST_TIMEOUT_MS = 60_000;

interface Setup {
  serverDir: string;
  home: string;
  downloads: string;
  valve: Valve;
}

async function setUp(t: TestContext, direction: 'down' | 'up'): Promise<Setup> {
  const { port, dir: serverDir } = await startServer(t);
  const home = await scratchDir(t, 'tor-cli-ctrl-c-');
  // A megabyte gets through, then the relay holds the rest until the test opens it.
  const valve = await startValve(port, { direction, allow: 1_000_000 });
  t.after(() => valve.close());
  return { serverDir, home, downloads: path.join(home, 'tor-files', 'Downloads'), valve };
}

function startClient(t: TestContext, setup: Setup, ...command: string[]): TtyClient {
  const client = new TtyClient(['--host', '127.0.0.1', '--port', String(setup.valve.port), '--home', setup.home, ...command], { cwd: setup.home });
  t.after(() => client.kill());
  return client;
}

/** Size of the hidden part file of the one download in progress, 0 while there is none. */
async function partBytes(downloads: string): Promise<number> {
  const names = await fs.readdir(downloads).catch(() => []);
  const part = names.find((name) => name.startsWith('.tor-part-') && !name.endsWith('.json'));
  return part ? (await fs.stat(path.join(downloads, part))).size : 0;
}

test('Ctrl-C at the prompt cancels a download, keeps its part, and the next download resumes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const setup = await setUp(t, 'down');
  const payload = patternBytes(4_000_000, 7);
  await fs.writeFile(path.join(setup.serverDir, 'big.bin'), payload);
  const tty = startClient(t, setup);

  await tty.sees('>> ');
  tty.type('download big.bin\r');
  await setup.valve.held;
  await eventually(async () => (await partBytes(setup.downloads)) > 0, 'the part file has bytes', 15_000);

  let from = tty.mark();
  tty.type(CTRL_C);
  await tty.sees(/cancelled: download of big\.bin at \d+%; run download big\.bin again to resume/, from);
  await tty.sees('>> ', from);
  assert.ok((await partBytes(setup.downloads)) > 0, 'the part file is kept');

  from = tty.mark();
  tty.type('show\r');
  await tty.sees('1 file, 4.0 MB', from);

  setup.valve.open();
  from = tty.mark();
  tty.type('download big.bin\r');
  await tty.sees(/Saved \S*big\.bin \(4\.0 MB in [\d.]+ s, resumed after [\d.]+ [kKM]?B\)/, from);
  assert.deepEqual(await fs.readFile(path.join(setup.downloads, 'big.bin')), payload);
  assert.deepEqual(await visibleNames(setup.downloads), ['big.bin']);

  tty.type('exit\r');
  assert.equal(await tty.exitCode(), 0);
});

test('Ctrl-C at the prompt cancels an upload: the server stores nothing and the prompt answers', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const setup = await setUp(t, 'up');
  // Larger than the socket buffers between client and relay, so the client is still sending, and
  // no larger than RESUMABLE_THRESHOLD, so it goes by the one-shot upload (resumable-upload.test.ts has the larger ones).
  const payload = patternBytes(RESUMABLE_THRESHOLD, 11);
  await fs.mkdir(path.join(setup.home, 'tor-files', 'Uploads'), { recursive: true });
  await fs.writeFile(path.join(setup.home, 'tor-files', 'Uploads', 'up.bin'), payload);
  const tty = startClient(t, setup);

  await tty.sees('>> ');
  tty.type('upload up.bin\r');
  await setup.valve.held;

  let from = tty.mark();
  tty.type(CTRL_C);
  await tty.sees(/cancelled: upload of up\.bin at \d+%; nothing was stored on the server/, from);
  await tty.sees('>> ', from);
  // The relay passes on what it held, as a slow network would; the server then sees the cut.
  setup.valve.open();
  await tempFolderEmpty(setup.serverDir);
  assert.deepEqual(await visibleNames(setup.serverDir), []);

  from = tty.mark();
  tty.type('show\r');
  await tty.sees('No files.', from);

  from = tty.mark();
  tty.type('upload up.bin\r');
  await tty.sees(/Uploaded up\.bin \(8\.4 MB in [\d.]+ s\)/, from);
  assert.deepEqual(await fs.readFile(path.join(setup.serverDir, 'up.bin')), payload);

  tty.type('exit\r');
  assert.equal(await tty.exitCode(), 0);
});

test('Ctrl-C in one-shot mode cancels the download and exits 130, keeping the part', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const setup = await setUp(t, 'down');
  await fs.writeFile(path.join(setup.serverDir, 'big.bin'), patternBytes(4_000_000, 3));
  const tty = startClient(t, setup, 'download', 'big.bin');

  await setup.valve.held;
  await eventually(async () => (await partBytes(setup.downloads)) > 0, 'the part file has bytes', 15_000);
  tty.type(CTRL_C);
  assert.equal(await tty.exitCode(), 130);
  assert.match(tty.screen, /cancelled: download of big\.bin at \d+%; run download big\.bin again to resume/);
  assert.ok((await partBytes(setup.downloads)) > 0, 'the part file is kept');
});

test('Ctrl-C at an idle prompt exits', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const setup = await setUp(t, 'down');
  const tty = startClient(t, setup);
  await tty.sees('>> ');
  tty.type(CTRL_C);
  assert.equal(await tty.exitCode(), 0);
});
