import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import { eventually } from 'test-support';
import { TftcpClient } from '../../src/client/index.js';
import { SHARE_USED_UP, parseShareLine } from '../../src/protocol/auth.js';
import { Reply } from '../../src/protocol/constants.js';
import { addToken, revokeTokens } from '../../src/server/auth/tokens.js';
import { LineClient, patternBytes } from '../helpers.js';
import { signedIn, startAuthServer } from './auth-helpers.js';

const SHARE_LINE = /^share tft_([0-9a-f]{8})_[A-Za-z0-9_-]{43} (\S+) (\d+|unlimited)$/;

describe('share links', () => {
  it('share answers ok and the share line; a missing file gets Not found file, a malformed option This command does not exist', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'report final.pdf'), 'pdf');
    const writer = await signedIn(t, server.port, await server.addToken('alice', 'write'), 'alice', 'write');
    const before = Date.now();
    assert.equal(await writer.request('share report final.pdf --expires 7d --max-downloads 3'), 'ok');
    const line = await writer.line();
    assert.match(line, SHARE_LINE);
    const share = parseShareLine(line)!;
    assert.equal(share.maxDownloads, 3);
    const expires = Date.parse(share.expires!);
    assert.ok(expires >= before + 7 * 86_400_000 && expires <= Date.now() + 7 * 86_400_000, share.expires!);
    assert.deepEqual([await writer.request('share report final.pdf'), await writer.line()].map((l) => l.replace(SHARE_LINE, 'share <token> $2 $3')), ['ok', 'share <token> never unlimited']);
    assert.deepEqual([await writer.request('share nothing.pdf'), await writer.line()], ['ok', Reply.NOT_FOUND]);
    assert.equal(await writer.request('share report final.pdf --expires soon'), Reply.UNKNOWN);
    assert.equal(await writer.request('share report final.pdf --max-downloads 0'), Reply.UNKNOWN);
  });

  it('a share reads its one file; only completed full downloads count, and at the maximum it signs in no more', async (t) => {
    const server = await startAuthServer(t);
    const data = patternBytes(4 * 1024 * 1024, 3);
    await writeFile(path.join(server.dir, 'movie.mp4'), data);
    await writeFile(path.join(server.dir, 'secret.txt'), 'no');
    const writer = await signedIn(t, server.port, await server.addToken('alice', 'write'), 'alice', 'write');
    await writer.request('share movie.mp4 --max-downloads 2');
    const token = parseShareLine(await writer.line())!.token;
    const id = token.split('_')[1]!;
    const downloads = () => server.server.auth.record(id)!.downloads;

    const viewer = await signedIn(t, server.port, token, 'movie.mp4', 'read');
    assert.equal(await viewer.request('show'), 'ok');
    assert.deepEqual((await viewer.listing()).map((row) => row.split('\t')[0]), ['movie.mp4']);
    assert.equal(await viewer.request('download secret.txt'), 'Permission denied: this token is limited to movie.mp4');
    assert.equal(await viewer.request('upload movie2.mp4'), 'Permission denied: upload needs write access (this token gives read)');
    assert.deepEqual([await viewer.request('stat movie.mp4'), await viewer.line()].map((l) => l.split('\t')[0]), ['ok', 'movie.mp4']);
    assert.deepEqual(await viewer.download('range 0 1000 movie.mp4'), data.subarray(0, 1000));
    assert.equal(await viewer.request('hash movie.mp4'), 'ok');
    await viewer.line();
    assert.equal(downloads(), 0, 'stat, range and hash do not count');

    // A download cut midway does not count.
    const cut = await signedIn(t, server.port, token, 'movie.mp4', 'read');
    assert.deepEqual([await cut.request('download movie.mp4'), await cut.line(), await cut.line()], ['ok', 'found', String(data.length)]);
    await cut.bytes(1000);
    cut.destroy();
    await eventually(() => server.server.connections.size === 2, 'the cut connection is gone');
    assert.equal(downloads(), 0, 'a cut download does not count');

    assert.deepEqual(await viewer.download('download movie.mp4'), data);
    await eventually(() => downloads() === 1, 'the first download counted');
    assert.deepEqual(await viewer.download('download movie.mp4'), data);
    await eventually(() => downloads() === 2, 'the second download counted');
    assert.equal(await viewer.request('stat movie.mp4'), SHARE_USED_UP);
    const late = await LineClient.connect(t, server.port);
    assert.equal(await late.request(`auth ${token}`), SHARE_USED_UP);
    assert.equal(SHARE_USED_UP, 'Permission denied: share link used up');
  });

  it('ranges that add up to the whole file count as one download, so a link cannot be read whole by ranges past its maximum', async (t) => {
    const server = await startAuthServer(t);
    const data = patternBytes(300_000, 5);
    await writeFile(path.join(server.dir, 'clip.mp4'), data);
    const writer = await signedIn(t, server.port, await server.addToken('alice', 'write'), 'alice', 'write');
    await writer.request('share clip.mp4 --max-downloads 1');
    const token = parseShareLine(await writer.line())!.token;
    const id = token.split('_')[1]!;
    const viewer = await signedIn(t, server.port, token, 'clip.mp4', 'read');
    // A player's seeks: a third, then the rest, then a part again.
    assert.deepEqual(await viewer.download('range 0 100000 clip.mp4'), data.subarray(0, 100_000));
    assert.equal(server.server.auth.record(id)!.downloads, 0, 'a part of the file is not a download');
    assert.deepEqual(await viewer.download('range 100000 200000 clip.mp4'), data.subarray(100_000));
    await eventually(() => server.server.auth.record(id)!.downloads === 1, 'the whole file read by ranges counted once');
    assert.equal(await viewer.request('range 0 1000 clip.mp4'), SHARE_USED_UP);
  });

  it('a link ends with the token that made it: capped at its expiry, revoked with it', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'a.txt'), 'a');
    const hour = 60 * 60_000;
    const writer = await signedIn(t, server.port, await server.addToken('temp', 'write', { expiresInMs: hour }), 'temp', 'write');
    await writer.request('share a.txt');
    const forever = parseShareLine(await writer.line())!;
    assert.ok(forever.expires !== null && Date.parse(forever.expires) <= Date.now() + hour, `asked for never, given ${forever.expires}`);
    await revokeTokens(server.file, 'temp');
    await server.server.auth.reload();
    const late = await LineClient.connect(t, server.port);
    assert.equal(await late.request(`auth ${forever.token}`), 'Invalid token');
  });

  it('in open mode a client not signed in manages the links such clients made, never the operator\'s', async (t) => {
    const server = await startAuthServer(t, { auth: 'open' });
    await writeFile(path.join(server.dir, 'a.txt'), 'a');
    const { record: operators } = await addToken(server.file, { label: 'a.txt', access: 'read', kind: 'share', only: 'a.txt' as never });
    await server.server.auth.reload();
    const anyone = await LineClient.connect(t, server.port);
    assert.equal(await anyone.request('share a.txt'), 'ok');
    const mine = (await anyone.line()).split(' ')[1]!.split('_')[1]!;
    assert.equal(await anyone.request('shares'), 'ok');
    assert.deepEqual((await anyone.listing()).map((row) => row.split('\t')[0]), [mine]);
    assert.deepEqual([await anyone.request(`unshare ${operators.id}`), await anyone.line()], ['ok', Reply.NOT_FOUND]);
    assert.deepEqual([await anyone.request(`unshare ${mine}`), await anyone.line()], ['ok', Reply.DELETED]);
  });

  it('parallel downloads cannot pass the maximum together: one under way holds its place', async (t) => {
    const server = await startAuthServer(t);
    const size = 32 * 1024 * 1024;
    await writeFile(path.join(server.dir, 'big.bin'), Buffer.alloc(size, 7));
    const writer = await signedIn(t, server.port, await server.addToken('alice', 'write'), 'alice', 'write');
    await writer.request('share big.bin --max-downloads 1');
    const token = parseShareLine(await writer.line())!.token;
    const first = await TftcpClient.connect({ host: '127.0.0.1', port: server.port, token });
    t.after(() => first.destroy());
    const { stream } = await first.download('big.bin');
    stream.pause();
    const second = await signedIn(t, server.port, token, 'big.bin', 'read');
    assert.equal(await second.request('download big.bin'), SHARE_USED_UP);
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = once(stream, 'end');
    stream.resume();
    await ended;
    assert.equal(received, size);
    await eventually(() => server.server.auth.record(token.split('_')[1]!)!.downloads === 1, 'the download counted');
    assert.equal(await second.request('download big.bin'), SHARE_USED_UP);
  });

  it('shares lists the caller\'s links (an admin every one); unshare by its creator or an admin', async (t) => {
    const server = await startAuthServer(t);
    await writeFile(path.join(server.dir, 'a.txt'), 'a');
    const alice = await signedIn(t, server.port, await server.addToken('alice', 'write'), 'alice', 'write');
    const bob = await signedIn(t, server.port, await server.addToken('bob', 'write'), 'bob', 'write');
    const admin = await signedIn(t, server.port, await server.addToken('root', 'admin'), 'root', 'admin');
    await alice.request('share a.txt --max-downloads 5');
    const token = parseShareLine(await alice.line())!.token;
    const id = token.split('_')[1]!;
    assert.equal(await alice.request('shares'), 'ok');
    assert.deepEqual(await alice.listing(), [`${id}\ta.txt\tnever\t0/5`]);
    assert.equal(await bob.request('shares'), 'ok');
    assert.deepEqual(await bob.listing(), []);
    assert.equal(await admin.request('shares'), 'ok');
    assert.deepEqual(await admin.listing(), [`${id}\ta.txt\tnever\t0/5`]);
    assert.deepEqual([await bob.request(`unshare ${id}`), await bob.line()], ['ok', Reply.NOT_FOUND]);
    assert.deepEqual([await alice.request(`unshare ${id}`), await alice.line()], ['ok', Reply.DELETED]);
    assert.deepEqual([await alice.request(`unshare ${id}`), await alice.line()], ['ok', Reply.NOT_FOUND]);
    const gone = await LineClient.connect(t, server.port);
    assert.equal(await gone.request(`auth ${token}`), 'Invalid token');
  });
});
