import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scratchDir } from 'test-support';
import { startServer } from '../helpers.js';
import { TtyClient } from './helpers.js';

/**
 * Runs tor-client on a real pseudo-terminal (util-linux `script`), so it behaves as it does
 * for a person: it asks for the host and port, and shows its `>> ` prompt.
 */
test('at a terminal, tor-client asks for host and port, then serves the >> prompt', async (t) => {
  const { port, dir } = await startServer(t);
  await fs.writeFile(path.join(dir, 'hello.txt'), 'hi');
  const home = await scratchDir(t, 'tor-cli-tty-');
  const tty = new TtyClient(['--home', home], { cwd: home });
  t.after(() => tty.kill());
  await tty.sees('Host [127.0.0.1]: ');
  tty.type('\r');
  await tty.sees('Port [7777]: ');
  tty.type(`${port}\r`);
  await tty.sees('>> ');
  tty.type('show\r');
  await tty.sees('1 file, 2 B');
  tty.type('exit\r');
  assert.equal(await tty.exitCode(), 0);
  assert.match(tty.screen, /Connected to 127\.0\.0\.1:\d+\. Type help for the commands\./);
  assert.match(tty.screen, /hello\.txt\s+2 B/);
});
