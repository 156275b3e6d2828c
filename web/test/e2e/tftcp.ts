import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, TOR_CLIENT_BIN } from 'test-support';

/** Every exchange with the tor-server outside the browser is bounded by this. */
const EXCHANGE_TIMEOUT_MS = 15_000;

/**
 * Sends one TFTCP command line over a fresh connection, as a raw client (`nc`) would, and
 * resolves with the reply lines up to the first that is not `ok` (the answer); then signs out.
 */
export function tftcpCommand(port: number, line: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`no answer to ${JSON.stringify(line)} in time: ${replies.join(' | ')}`)), EXCHANGE_TIMEOUT_MS);
    let done = false;
    function finish(error?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Signs out; the server answers `exit` and closes, and a connection that errored is gone anyway.
      if (error) socket.destroy();
      else socket.end('exit\n');
      if (error) reject(error);
      else resolve(replies);
    }
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const reply = buffered.slice(0, end).replace(/\r$/, '');
        buffered = buffered.slice(end + 1);
        replies.push(reply);
        if (reply !== 'ok') return finish();
      }
    });
    socket.on('error', (error) => finish(error));
  });
}

/** Uploads `file` with the built `tor-client` CLI in one-shot mode; resolves with what it printed. */
export async function torClientUpload(port: number, file: string): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), 'tft-client-home-'));
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [TOR_CLIENT_BIN, '--host', '127.0.0.1', '--port', String(port), '--home', home, 'upload', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), EXCHANGE_TIMEOUT_MS);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else reject(new Error(`tor-client upload exited with ${code}:\n${output}`));
      });
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
