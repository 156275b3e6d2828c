import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ApiPath, TUS_CONTENT_TYPE } from '../../src/api/index.js';
import { listen, storedNames } from '../helpers.js';
import { startAuthStack } from '../auth-helpers.js';
import { TUS, nameMetadata, runTus } from '../routes/uploads-helpers.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('tus uploads under sign-in: the tor-server decides, each user owns their uploads', () => {
  it('a writer uploads with tus-js-client and a Bearer token; the bytes arrive under their name', async (t) => {
    const stack = await startAuthStack(t);
    const writer = await stack.addToken('wanda', 'write');
    const base = await listen(stack.app);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const { done } = runTus(data, { endpoint: `${base}${ApiPath.uploads}`, chunkSize: 1024 * 1024, metadata: { filename: 'from-tus.bin' }, headers: bearer(writer) });
    await done;
    assert.deepEqual(await readFile(path.join(stack.dir, 'from-tus.bin')), data);
  });

  it('without a token 401, with a read token 403: the tor-server refuses begin, nothing is left', async (t) => {
    const stack = await startAuthStack(t);
    const reader = await stack.addToken('rita', 'read');
    const base = await listen(stack.app);
    const create = (headers: Record<string, string>) =>
      fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, 'upload-length': '5', 'upload-metadata': nameMetadata('x.txt'), ...headers } });

    const anonymous = await create({});
    assert.equal(anonymous.status, 401);
    assert.deepEqual(await anonymous.json(), { error: 'Permission denied: sign in with auth <token>' });
    const refused = await create(bearer(reader));
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /^Permission denied: /);
    assert.deepEqual(await storedNames(stack.dir), []);
  });

  it("one user's upload URL is not another's: HEAD, PATCH and DELETE of a foreign upload are 404 and change nothing", async (t) => {
    const stack = await startAuthStack(t);
    const alice = await stack.addToken('alice', 'write');
    const bob = await stack.addToken('bob', 'admin');
    const base = await listen(stack.app);
    const created = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, ...bearer(alice), 'upload-length': '10', 'upload-metadata': nameMetadata('mine.txt') } });
    assert.equal(created.status, 201);
    const url = new URL(created.headers.get('location')!, base).href;
    const first = await fetch(url, { method: 'PATCH', headers: { ...TUS, ...bearer(alice), 'content-type': TUS_CONTENT_TYPE, 'upload-offset': '0' }, body: Buffer.from('01234') });
    assert.equal(first.status, 204);

    assert.equal((await fetch(url, { method: 'HEAD', headers: { ...TUS, ...bearer(bob) } })).status, 404);
    const foreign = await fetch(url, { method: 'PATCH', headers: { ...TUS, ...bearer(bob), 'content-type': TUS_CONTENT_TYPE, 'upload-offset': '5' }, body: Buffer.from('XXXXX') });
    assert.equal(foreign.status, 404);
    assert.equal((await fetch(url, { method: 'DELETE', headers: { ...TUS, ...bearer(bob) } })).status, 404);

    const mine = await fetch(url, { method: 'HEAD', headers: { ...TUS, ...bearer(alice) } });
    assert.equal(mine.headers.get('upload-offset'), '5');
    const last = await fetch(url, { method: 'PATCH', headers: { ...TUS, ...bearer(alice), 'content-type': TUS_CONTENT_TYPE, 'upload-offset': '5' }, body: Buffer.from('56789') });
    assert.equal(last.status, 204);
    assert.equal(await readFile(path.join(stack.dir, 'mine.txt'), 'utf8'), '0123456789');
  });
});
