import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { WAIT_MS, eventually } from 'test-support';
import { TftcpClient } from '../../src/client/index.js';
import { TOKEN_EXPIRED, TOKEN_REVOKED } from '../../src/protocol/auth.js';
import { revokeTokens } from '../../src/server/auth/tokens.js';
import { runBin } from '../helpers.js';
import { signedIn, startAuthServer, type AuthServer } from './auth-helpers.js';

const BIG_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);
// Generous for 256 MB through loopback on a loaded machine, and still bounded.
const TRANSFER_MS = 45_000;

/** A served folder in memory (tmpfs) when the machine has one, holding one big file. */
async function bigFileServer(t: TestContext): Promise<AuthServer> {
  const base = (await stat('/dev/shm').then((s) => s.isDirectory(), () => false)) ? '/dev/shm' : tmpdir();
  const dir = await mkdtemp(path.join(base, 'tor-big-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = await open(path.join(dir, 'big.bin'), 'w');
  for (let written = 0; written < BIG_BYTES; written += CHUNK.length) await file.write(CHUNK);
  await file.close();
  return startAuthServer(t, { dir });
}

/**
 * Starts a download of big.bin, takes its first chunk, then holds the rest back (the server
 * waits on backpressure, mid-transfer) until `meanwhile` is done; resolves with the bytes received.
 */
async function downloadAcross(client: TftcpClient, meanwhile: () => Promise<void>): Promise<number> {
  const { size, stream } = await client.download('big.bin');
  assert.equal(size, BIG_BYTES);
  let received = 0;
  stream.on('data', (chunk: Buffer) => (received += chunk.length));
  stream.pause();
  stream.read(0);
  await meanwhile();
  const ended = once(stream, 'end');
  stream.resume();
  await ended;
  return received;
}

describe('token lifetime', () => {
  it('a watch whose token expires ends at the next change with the refusal, naming no file', async (t) => {
    const server = await startAuthServer(t);
    const watcher = await signedIn(t, server.port, await server.addToken('carol', 'read', { expiresInMs: 60 * 60_000 }), 'carol', 'read');
    const writer = await signedIn(t, server.port, await server.addToken('dave', 'write'), 'dave', 'write');
    assert.equal(await watcher.request('watch'), 'ok');
    assert.match(await watcher.line(), /^watching \d+$/);
    await server.file.update((tokens) => (tokens.find((record) => record.label === 'carol')!.expires = new Date(Date.now() - 1000).toISOString()));
    await server.server.auth.reload();
    assert.deepEqual(await writer.upload('secret-plan.txt', Buffer.from('x')), ['ok', 'ok', 'end']);
    assert.equal(await watcher.line(), TOKEN_EXPIRED);
    await watcher.closed();
  });

  it('a connection signed out by an expired token no longer holds that token\'s unfinished uploads', async (t) => {
    const server = await startAuthServer(t, { auth: 'open' });
    const client = await signedIn(t, server.port, await server.addToken('carol', 'write', { expiresInMs: 60 * 60_000 }), 'carol', 'write');
    assert.equal(await client.request('begin 10 - carol.bin'), 'ok');
    const id = (await client.line()).split(' ')[1]!;
    await client.line();
    await server.file.update((tokens) => (tokens.find((record) => record.label === 'carol')!.expires = new Date(Date.now() - 1000).toISOString()));
    await server.server.auth.reload();
    assert.equal(await client.request(`status ${id}`), TOKEN_EXPIRED);
    // Open mode: the connection carries on with the open level, as anyone, who does not own the upload.
    assert.match(await client.request(`status ${id}`), /^Unknown upload: /);
    assert.match(await client.request(`put ${id} 0 10`), /^Unknown upload: /);
  });

  it('a token revoked during a large download lets it finish; the next command is refused', { timeout: TRANSFER_MS + 15_000 }, async (t) => {
    const server = await bigFileServer(t);
    const token = await server.addToken('alice', 'read');
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token, replyTimeoutMs: TRANSFER_MS });
    t.after(() => client.destroy());
    const received = await downloadAcross(client, async () => {
      await revokeTokens(server.file, 'alice');
      await server.server.auth.reload();
      assert.equal(server.server.auth.sessionProblem(token.split('_')[1]!), 'revoked');
    });
    assert.equal(received, BIG_BYTES);
    await assert.rejects(client.show(), { reply: TOKEN_REVOKED });
  });

  it('a token that expires during a large download lets it finish; the next command is refused', { timeout: TRANSFER_MS + 15_000 }, async (t) => {
    const server = await bigFileServer(t);
    const token = await server.addToken('bob', 'read', { expiresInMs: 60 * 60_000 });
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token, replyTimeoutMs: TRANSFER_MS });
    t.after(() => client.destroy());
    const received = await downloadAcross(client, async () => {
      // The clock moves on: the file says the token expired a moment ago.
      await server.file.update((tokens) => (tokens[0]!.expires = new Date(Date.now() - 1000).toISOString()));
      await server.server.auth.reload();
    });
    assert.equal(received, BIG_BYTES);
    await assert.rejects(client.show(), { reply: TOKEN_EXPIRED });
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.1', port: server.port, token }), { reply: 'Permission denied: token expired' });
  });

  it('token revoke from the bin, while the server runs, closes an idle session of that token within seconds', async (t) => {
    const server = await startAuthServer(t);
    const alice = await server.addToken('alice', 'write');
    const bob = await server.addToken('bob', 'write');
    const idle = await signedIn(t, server.port, alice, 'alice', 'write');
    const other = await signedIn(t, server.port, bob, 'bob', 'write');
    const result = await runBin(t, ['token', 'revoke', 'alice', '--state-dir', server.stateDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Revoked token [0-9a-f]{8} \(alice\)\n$/);
    // The server polls the file every second.
    assert.equal(await idle.rest(WAIT_MS), `${TOKEN_REVOKED}\n`);
    assert.deepEqual([await other.request('whoami'), await other.line()], ['ok', 'access write']);
  });

  it('a watcher signed in with a revoked token is closed too', async (t) => {
    const server = await startAuthServer(t);
    const token = await server.addToken('alice', 'read');
    const watcher = await signedIn(t, server.port, token, 'alice', 'read');
    assert.equal(await watcher.request('watch'), 'ok');
    await watcher.line();
    await revokeTokens(server.file, token.split('_')[1]!);
    await eventually(() => watcher.ended, 'the watcher closed');
  });
});

describe('token add while the server runs', () => {
  it('a token made by the bin a moment ago signs in at once, before the next poll', async (t) => {
    const server = await startAuthServer(t);
    const added = await runBin(t, ['token', 'add', 'carol', '--access', 'read', '--state-dir', server.stateDir]);
    assert.equal(added.code, 0, added.stderr);
    const token = added.stdout.split('\n')[1]!;
    await signedIn(t, server.port, token, 'carol', 'read');
  });
});
