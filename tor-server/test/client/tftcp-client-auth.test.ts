import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TftcpClient, TftcpReplyError } from '../../src/client/index.js';
import { CLIENT_NOT_TRUSTED, CLIENT_TOO_LATE, SIGN_IN_FIRST } from '../../src/protocol/auth.js';
import { ErrorKind, Reply } from '../../src/protocol/constants.js';
import { startAuthServer } from '../server/auth-helpers.js';

describe('TftcpClient with tokens', () => {
  it('the token option signs in on connect; a refused token rejects the connect with the reply', async (t) => {
    const server = await startAuthServer(t);
    const token = await server.addToken('alice', 'write');
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token });
    t.after(() => client.destroy());
    assert.equal(await client.whoami(), 'write');
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.1', port: server.port, token: 'tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), (error: unknown) => error instanceof TftcpReplyError && error.reply === 'Invalid token');
    const anonymous = await TftcpClient.connect({ host: '127.0.0.1', port: server.port });
    t.after(() => anonymous.destroy());
    await assert.rejects(anonymous.show(), { reply: SIGN_IN_FIRST });
    assert.deepEqual(await anonymous.auth(token), { label: 'alice', access: 'write' });
    assert.deepEqual(await anonymous.show(), []);
  });

  it('client names the end user before auth, from a trusted proxy only; clientAddress does it on connect', async (t) => {
    const server = await startAuthServer(t, { trustedProxies: ['127.0.0.1'] });
    const token = await server.addToken('alice', 'write');
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, clientAddress: '203.0.113.9', token });
    t.after(() => client.destroy());
    assert.equal(await client.whoami(), 'write');
    await assert.rejects(client.client('203.0.113.10'), { reply: CLIENT_TOO_LATE });
    await assert.rejects(client.client('two words'), { reply: Reply.UNKNOWN });
    const untrusting = await startAuthServer(t);
    const refused = await TftcpClient.connect({ host: '127.0.0.1', port: untrusting.port });
    t.after(() => refused.destroy());
    await assert.rejects(refused.client('203.0.113.9'), (error: unknown) => error instanceof TftcpReplyError && error.reply === CLIENT_NOT_TRUSTED && error.kind === ErrorKind.PERMISSION_DENIED);
  });

  it('share, shares and unshare', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'a b.txt'), 'x');
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token: await server.addToken('alice', 'write') });
    t.after(() => client.destroy());
    assert.equal(await client.share({ name: 'missing.txt' }), false);
    const share = await client.share({ name: 'a b.txt', expires: '90m', maxDownloads: 4 });
    assert.ok(share);
    assert.equal(share.maxDownloads, 4);
    const id = share.token.split('_')[1]!;
    assert.deepEqual(await client.shares(), [{ id, name: 'a b.txt', expires: share.expires, downloads: 0, maxDownloads: 4 }]);
    const viewer = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token: share.token });
    t.after(() => viewer.destroy());
    assert.deepEqual((await viewer.show()).map((e) => e.name), ['a b.txt']);
    assert.equal(await client.unshare(id), true);
    assert.equal(await client.unshare(id), false);
    assert.deepEqual(await client.shares(), []);
  });
});
