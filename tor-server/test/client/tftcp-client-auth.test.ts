import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TftcpClient, TftcpReplyError } from '../../src/client/index.js';
import { SIGN_IN_FIRST } from '../../src/protocol/auth.js';
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
