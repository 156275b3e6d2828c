import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { listenProblem } from '../../src/options/index.js';

// Every wait on the child is bounded, so a broken handler fails the test instead of hanging it.
const WAIT_MS = 10_000;
const STARTUP = new URL('../../src/options/startup.ts', import.meta.url).href;

function errno(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('listenProblem', () => {
  const where = { host: '192.0.2.1', port: 80, accessHint: 'Choose a port above 1023 with --port.' };

  it('says what to do for a port in use, no permission, and an address not of this machine', () => {
    assert.equal(listenProblem(errno('EADDRINUSE'), where), 'port 80 on 192.0.2.1 is already in use. Stop the other server or choose another port with --port.');
    assert.equal(listenProblem(errno('EACCES', 'listen EACCES: permission denied 192.0.2.1:80'), where), 'permission denied (listen EACCES: permission denied 192.0.2.1:80). Choose a port above 1023 with --port.');
    assert.equal(listenProblem(errno('EPERM', 'nope'), where), 'permission denied (nope). Choose a port above 1023 with --port.');
    assert.equal(listenProblem(errno('EADDRNOTAVAIL'), where), '192.0.2.1 is not an address of this machine. Use --host 0.0.0.0 to listen on all of them.');
    assert.equal(listenProblem(errno('EMFILE', 'too many open files'), where), 'could not start: too many open files');
  });
});

describe('stopOnSignals', () => {
  // A program whose stop never finishes: the first SIGTERM starts it, the second forces the exit.
  const program = `
    import { stopOnSignals } from ${JSON.stringify(STARTUP)};
    stopOnSignals('prog', (reason) => { process.stdout.write('stopping on ' + reason + '\\n'); return new Promise(() => {}); });
    setInterval(() => {}, 1000);
    process.stdout.write('ready\\n');
  `;

  function start() {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const waitFor = async (text: string) => {
      const signal = AbortSignal.timeout(WAIT_MS);
      while (!stdout.includes(text)) await once(child.stdout, 'data', { signal });
    };
    const exited = once(child, 'exit', { signal: AbortSignal.timeout(WAIT_MS) });
    return { child, waitFor, exited, stderr: () => stderr };
  }

  it('a second signal while stopping exits 1 at once and says so', async (t) => {
    const run = start();
    t.after(() => run.child.kill('SIGKILL'));
    await run.waitFor('ready\n');
    run.child.kill('SIGTERM');
    await run.waitFor('stopping on SIGTERM\n');
    run.child.kill('SIGINT');
    const [code] = await run.exited;
    assert.equal(code, 1);
    assert.equal(run.stderr(), 'prog: forced exit\n');
  });
});
