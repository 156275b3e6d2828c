import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { CLIENT_BIN, scratch, startServer } from './helpers.js';

/**
 * Runs tor-client on a real pseudo-terminal (util-linux `script`), so it behaves as it does
 * for a person: it asks for the host and port, and shows its `>> ` prompt.
 */
test('at a terminal, tor-client asks for host and port, then serves the >> prompt', async () => {
  const { server, port, dir } = await startServer();
  await fs.writeFile(path.join(dir, 'hello.txt'), 'hi');
  const home = await scratch('tor-cli-tty');
  const command = `${process.execPath} ${CLIENT_BIN} --home ${home}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, TOR_HOST: '', TOR_PORT: '', TERM: 'dumb' } });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 10_000;
    while (!screen.includes(text)) {
      if (Date.now() > deadline) throw new Error(`never saw ${JSON.stringify(text)}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor('Host [127.0.0.1]: ');
    child.stdin.write('\r');
    await waitFor('Port [7777]: ');
    child.stdin.write(`${port}\r`);
    await waitFor('>> ');
    child.stdin.write('show\r');
    await waitFor('1 file, 2 B');
    child.stdin.write('exit\r');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.match(screen, /Connected to 127\.0\.0\.1:\d+\. Type help for the commands\./);
    assert.match(screen, /hello\.txt\s+2 B/);
  } finally {
    child.kill('SIGKILL');
    await server.close(0);
    await fs.rm(home, { recursive: true, force: true });
    await fs.rm(dir, { recursive: true, force: true });
  }
});
