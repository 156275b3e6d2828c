import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CLIENT_NOT_TRUSTED, SIGN_IN_FIRST, formatSignedInLine } from '../../src/protocol/auth.js';
import { ACCESS_LEVELS, ErrorKind, Reply, accessAllows, type AccessLevel } from '../../src/protocol/constants.js';
import { MAX_FAILED_SIGN_INS } from '../../src/server/auth/sign-in-limit.js';
import { eventually, scrape } from 'test-support';
import { LineClient, memoryLogger } from '../helpers.js';
import { signedIn, startAuthServer } from './auth-helpers.js';

/** Every command that needs a level, as a line that is allowed to answer `ok` first. */
const COMMANDS: ReadonlyArray<[line: string, needs: AccessLevel]> = [
  ['show', 'read'],
  ['search f', 'read'],
  ['download f.txt', 'read'],
  ['range 0 1 f.txt', 'read'],
  ['stat f.txt', 'read'],
  ['hash f.txt', 'read'],
  ['watch', 'read'],
  ['whoami', 'read'],
  ['upload new.txt', 'write'],
  ['share f.txt', 'write'],
  ['shares', 'write'],
  ['unshare 00000000', 'write'],
  ['delete gone.txt', 'admin'],
  ['rename gone.txt\tother.txt', 'admin'],
];

describe('sign-in', () => {
  it('each level runs the commands it allows and is refused the rest, checked before the argument', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'f.txt'), 'hello');
    for (const level of ACCESS_LEVELS) {
      const token = await server.addToken(`user-${level}`, level);
      for (const [line, needs] of COMMANDS) {
        const client = await signedIn(t, server.port, token, `user-${level}`, level);
        const word = line.split(/[ \t]/)[0]!;
        const expected = accessAllows(level, needs) ? Reply.OK : `${ErrorKind.PERMISSION_DENIED}: ${word} needs ${needs} access (this token gives ${level})`;
        assert.equal(await client.request(line), expected, `${level}: ${line}`);
        client.destroy();
      }
    }
  });

  it('before signing in, every command but auth and exit is refused; unknown commands stay unknown', async (t) => {
    const server = await startAuthServer(t);
    await server.addToken('alice', 'admin');
    const client = await LineClient.connect(t, server.port);
    for (const [line] of COMMANDS) assert.equal(await client.request(line), SIGN_IN_FIRST, line);
    assert.equal(await client.request('auth'), Reply.UNKNOWN);
    assert.equal(await client.request('dance'), Reply.UNKNOWN);
    assert.equal(await client.request('exit'), Reply.EXIT);
    await client.closed();
  });

  it('auth answers ok and signed in as; whoami then answers the token\'s level', async (t) => {
    const server = await startAuthServer(t);
    const token = await server.addToken('alice', 'write');
    const client = await signedIn(t, server.port, token, 'alice', 'write');
    assert.deepEqual([await client.request('whoami'), await client.line()], ['ok', 'access write']);
    assert.deepEqual(formatSignedInLine('alice', 'write'), 'signed in as alice (write)');
  });

  it('a bad token gets Invalid token and the connection closes; the token is never logged', async (t) => {
    const log = memoryLogger();
    const server = await startAuthServer(t, { logger: log.logger });
    const token = await server.addToken('alice', 'admin');
    const wrong = `${token.slice(0, -4)}AAAA`;
    const client = await LineClient.connect(t, server.port);
    assert.equal(await client.request(`auth ${wrong}`), 'Invalid token');
    assert.equal(await client.rest(), '');
    assert.match(log.text(), /warn sign-in-failed client=127\.0\.0\.1:\d+ address=127\.0\.0\.1/);
    assert.ok(!log.text().includes(wrong.slice(4)), 'the log holds no token');
    const other = await LineClient.connect(t, server.port);
    assert.equal(await other.request('auth not-even-a-token'), 'Invalid token');
  });

  it(`after ${MAX_FAILED_SIGN_INS} failures in a minute an address gets Too many attempts, even with a good token`, async (t) => {
    const log = memoryLogger();
    const server = await startAuthServer(t, { logger: log.logger });
    const token = await server.addToken('alice', 'admin');
    // Side by side: each refused connection lingers a second before it closes.
    await Promise.all(
      Array.from({ length: MAX_FAILED_SIGN_INS }, async () => {
        const client = await LineClient.connect(t, server.port);
        assert.equal(await client.request('auth tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'Invalid token');
      }),
    );
    const client = await LineClient.connect(t, server.port);
    const reply = await client.request(`auth ${token}`);
    assert.match(reply, /^Too many attempts: retry in \d+ s$/);
    const seconds = Number(/(\d+) s$/.exec(reply)![1]);
    assert.ok(seconds >= 1 && seconds <= 60, reply);
    await client.closed();
    assert.match(log.text(), /warn sign-in-limited client=127\.0\.0\.1:\d+ address=127\.0\.0\.1 retry_s=\d+/);
    // Another address is not held back by this one's failures.
    const elsewhere = await signedIn(t, server.port, token, 'alice', 'admin').catch(() => undefined);
    assert.equal(elsewhere, undefined, 'the same address stays limited');
    const fromOther = await LineClient.connect(t, server.port, '127.0.0.2');
    assert.deepEqual([await fromOther.request(`auth ${token}`), await fromOther.line()], ['ok', 'signed in as alice (admin)']);
  });

  it('failed sign-ins are counted by their reply in the commands metric', async (t) => {
    const server = await startAuthServer(t, { metricsPort: 0 });
    const token = await server.addToken('alice', 'read');
    const url = `http://127.0.0.1:${server.server.metricsAddress()!.port}/metrics`;
    const bad = await LineClient.connect(t, server.port);
    assert.equal(await bad.request('auth tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'Invalid token');
    await bad.closed();
    await signedIn(t, server.port, token, 'alice', 'read');
    const metrics = await scrape(url);
    assert.equal(metrics.value('tor_server_commands_total{command="auth",result="invalid-token"}'), 1);
    assert.equal(metrics.value('tor_server_commands_total{command="auth",result="ok"}'), 1);
  });

  it('auto: a share link alone leaves the server open; a token makes sign-in required', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'f.txt'), 'x');
    await server.addToken('f.txt', 'read', { kind: 'share', only: 'f.txt' });
    const open = await LineClient.connect(t, server.port);
    assert.deepEqual([await open.request('whoami'), await open.line()], ['ok', 'access write']);
    await server.addToken('alice', 'admin');
    const closed = await LineClient.connect(t, server.port);
    assert.equal(await closed.request('whoami'), SIGN_IN_FIRST);
  });

  it('--auth open: tokens are optional, and auth gives the token\'s level', async (t) => {
    const server = await startAuthServer(t, { auth: 'open', openAccess: 'read' });
    const token = await server.addToken('alice', 'admin');
    const client = await LineClient.connect(t, server.port);
    assert.deepEqual([await client.request('whoami'), await client.line()], ['ok', 'access read']);
    assert.deepEqual([await client.request(`auth ${token}`), await client.line()], ['ok', 'signed in as alice (admin)']);
    assert.deepEqual([await client.request('whoami'), await client.line()], ['ok', 'access admin']);
  });

  it('--auth required with no token refuses everyone', async (t) => {
    const server = await startAuthServer(t, { auth: 'required' });
    const client = await LineClient.connect(t, server.port);
    assert.equal(await client.request('show'), SIGN_IN_FIRST);
  });

  it('a token limited to one file lists only it and is refused the others', async (t) => {
    const server = await startAuthServer(t);
    for (const name of ['a.txt', 'b.txt', 'my a.txt']) await writeFile(path.join(server.dir, name), name);
    const token = await server.addToken('only-a', 'admin', { only: 'a.txt' });
    const client = await signedIn(t, server.port, token, 'only-a', 'admin');
    assert.equal(await client.request('show'), 'ok');
    assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['a.txt']);
    assert.equal(await client.request('search a'), 'ok');
    assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['a.txt']);
    const refused = 'Permission denied: this token is limited to a.txt';
    for (const line of ['download b.txt', 'stat my a.txt', 'hash b.txt', 'range 0 1 b.txt', 'delete b.txt', 'upload c.txt', 'rename a.txt\tc.txt', 'watch']) {
      assert.equal(await client.request(line), refused, line);
    }
    assert.deepEqual(await client.download('download a.txt'), Buffer.from('a.txt'));
  });
});

describe('trusted proxies', () => {
  it('sign-ins sent all at once meet the limit too', async (t) => {
    const server = await startAuthServer(t);
    await server.addToken('alice', 'admin');
    const clients = await Promise.all(Array.from({ length: 3 * MAX_FAILED_SIGN_INS }, () => LineClient.connect(t, server.port)));
    const replies = await Promise.all(clients.map((client) => client.request('auth tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')));
    assert.equal(replies.filter((reply) => reply === 'Invalid token').length, MAX_FAILED_SIGN_INS);
    assert.equal(replies.filter((reply) => /^Too many attempts: retry in \d+ s$/.test(reply)).length, 2 * MAX_FAILED_SIGN_INS);
  });

  it('a trusted proxy names its user with client; failed sign-ins are counted and logged by that address', async (t) => {
    const log = memoryLogger();
    const server = await startAuthServer(t, { trustedProxies: ['127.0.0.1'], maxClientsPerAddress: 1, maxClientsPerProxy: 3, logger: log.logger });
    await server.addToken('alice', 'admin');
    const first = await LineClient.connect(t, server.port);
    const second = await LineClient.connect(t, server.port);
    assert.equal(await first.request('client 203.0.113.9'), 'ok');
    assert.equal(await first.request('client 203.0.113.10'), 'Permission denied: client must come once, before auth');
    assert.equal(await first.request('auth tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'Invalid token');
    assert.match(log.text(), /warn sign-in-failed client="203\.0\.113\.9 \(via 127\.0\.0\.1:\d+\)" address=203\.0\.113\.9/);
    assert.equal(await second.request('client not-an-address'), Reply.UNKNOWN);
    // The proxy's own limit (3), not the per-address one (1), applies to it.
    await first.closed();
    await eventually(() => server.server.connections.size === 1, 'the refused connection is gone');
    await LineClient.connect(t, server.port);
    await LineClient.connect(t, server.port);
    await eventually(() => server.server.connections.size === 3, 'three connections from the proxy');
    const fourth = await LineClient.connect(t, server.port);
    assert.equal(await fourth.line(), 'Too many clients: 127.0.0.1 already has 3 connections, the limit per trusted proxy');
  });

  it('a user address written as IPv4-mapped IPv6 is that IPv4 address', async (t) => {
    const log = memoryLogger();
    const server = await startAuthServer(t, { trustedProxies: ['127.0.0.1'], logger: log.logger });
    await server.addToken('alice', 'admin');
    const client = await LineClient.connect(t, server.port);
    assert.equal(await client.request('client ::ffff:203.0.113.9'), 'ok');
    assert.equal(await client.request('auth tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'Invalid token');
    assert.match(log.text(), /warn sign-in-failed client="203\.0\.113\.9 \(via 127\.0\.0\.1:\d+\)" address=203\.0\.113\.9\n/);
  });

  it('anyone else is refused client', async (t) => {
    const server = await startAuthServer(t, { trustedProxies: ['10.9.9.9'] });
    const client = await LineClient.connect(t, server.port);
    assert.equal(await client.request('client 203.0.113.9'), CLIENT_NOT_TRUSTED);
    assert.equal(CLIENT_NOT_TRUSTED, 'Permission denied: only a trusted proxy may name a client address');
  });
});
