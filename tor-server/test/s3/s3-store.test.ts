import assert from 'node:assert/strict';
import { CreateMultipartUploadCommand, GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { WAIT_MS, eventually, sha256, within } from 'test-support';
import { ErrorKind, Reply, errorReply } from '../../src/protocol/constants.js';
import { formatStoreLine } from '../../src/server/console.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { STALE_MARKER_MS } from '../../src/server/store/s3/s3-store.js';
import { STREAMED_PART_BYTES } from '../../src/server/store/s3/s3-upload.js';
import { LineClient, patternBytes } from '../helpers.js';
import { rawWatcher } from '../server/watch-helpers.js';
import { NO_ENGINE, engine, getObject, metadataOf, putObject, startS3Server } from './s3-helpers.js';

/** A pending marker's metadata, as another server writes it `ageMs` ago. */
function markerOf(ageMs: number): Record<string, string> {
  return { 'tor-state': 'pending', 'tor-owner': 'another-server', 'tor-at': new Date(Date.now() - ageMs).toISOString() };
}
const staleMarker = () => markerOf(STALE_MARKER_MS + 60_000);
const freshMarker = () => markerOf(0);

// Larger than one part (8 MiB): a multipart upload, claimed by a pending marker before it completes.
const MULTIPART_BYTES = 20 * 1024 * 1024 + 123;

describe('S3 store', { skip: NO_ENGINE }, () => {
  it('a large upload goes up in parts, lands whole, and is served whole and by range', async (t) => {
    const { port, bucket, dir } = await startS3Server(t);
    const data = patternBytes(MULTIPART_BYTES, 3);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('big clip.mp4', data, 60_000), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'big clip.mp4'))!), sha256(data));
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), [], 'no part left in the spool');
    assert.equal(sha256(await client.download('download big clip.mp4', 60_000)), sha256(data));
    assert.deepEqual(await client.download(`range ${MULTIPART_BYTES - 10} 10 big clip.mp4`), data.subarray(MULTIPART_BYTES - 10));
    assert.deepEqual([await client.request('hash big clip.mp4', 60_000), await client.line(60_000)], [Reply.OK, `sha256 ${sha256(data)}`]);
  });

  it('a small upload is one conditional PutObject carrying its sha256, which hash then answers without a read', async (t) => {
    const { port, bucket, server } = await startS3Server(t);
    const data = patternBytes(100_000, 4);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('notes.txt', data), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal((await metadataOf(bucket, 'notes.txt'))['tor-sha256'], sha256(data));
    // The next server on the same bucket (a restart) knows the hash from the metadata alone.
    client.destroy();
    await within(server.close(0), WAIT_MS, 'the first server to stop');
    const again = await startS3Server(t, { bucket });
    const other = await LineClient.connect(t, again.port);
    assert.deepEqual([await other.request('hash notes.txt'), await other.line()], [Reply.OK, `sha256 ${sha256(data)}`]);
  });

  it('an upload of several streamed parts (their bounds falling inside the chunks that arrive) lands whole, nothing spooled', async (t) => {
    const { port, bucket, dir } = await startS3Server(t);
    const data = patternBytes(2 * STREAMED_PART_BYTES + 12_345, 6);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('three parts.bin', data, 120_000), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'three parts.bin'))!), sha256(data));
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
  });

  it('a large upload keeps its sha256 in tags of the version stored, which a restarted server answers hash from', async (t) => {
    const { port, bucket, server } = await startS3Server(t);
    const data = patternBytes(MULTIPART_BYTES, 5);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('large.bin', data, 60_000), [Reply.OK, Reply.OK, Reply.END]);
    const head = await engine!.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
    const tags = (await engine!.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'large.bin' }))).TagSet ?? [];
    assert.deepEqual(Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])), { 'tor-sha256': sha256(data), 'tor-sha256-etag': head.ETag!.replace(/"/g, '') });
    client.destroy();
    await within(server.close(0), WAIT_MS, 'the first server to stop');

    // The tags are where a restarted server's answer comes from (so it reads no byte): a tag
    // for this version is believed as it is, one naming another version is not.
    const etag = head.ETag!.replace(/"/g, '');
    const tag = (sha: string, version: string) =>
      engine!.client.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'large.bin', Tagging: { TagSet: [{ Key: 'tor-sha256', Value: sha }, { Key: 'tor-sha256-etag', Value: version }] } }));
    const hashOnNewServer = async () => {
      const next = await startS3Server(t, { bucket });
      const other = await LineClient.connect(t, next.port);
      const answer = [await other.request('hash large.bin', 60_000), await other.line(60_000)];
      other.destroy();
      await within(next.server.close(0), WAIT_MS, 'the server to stop');
      return answer;
    };
    await tag('f'.repeat(64), etag);
    assert.deepEqual(await hashOnNewServer(), [Reply.OK, `sha256 ${'f'.repeat(64)}`]);
    await tag('f'.repeat(64), 'another-version');
    assert.deepEqual(await hashOnNewServer(), [Reply.OK, `sha256 ${sha256(data)}`]);
  });

  it('a second writer racing through the bucket: its object wins, the multipart upload is refused and leaves nothing', async (t) => {
    const { port, bucket, dir } = await startS3Server(t);
    const client = await LineClient.connect(t, port);
    const data = patternBytes(MULTIPART_BYTES, 5);
    assert.equal(await client.request('upload race.bin'), Reply.OK);
    assert.equal(await client.request(String(data.length)), Reply.OK);
    client.send(data.subarray(0, data.length - 1));
    // The first parts are up (a multipart upload exists) before the other writer puts its object.
    await eventually(async () => ((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length > 0, 'a multipart upload under way');
    await putObject(bucket, 'race.bin', 'the other writer');
    client.send(data.subarray(data.length - 1));
    assert.equal(await client.line(60_000), errorReply(ErrorKind.FILE_EXISTS, 'race.bin'));
    assert.equal(String(await getObject(bucket, 'race.bin')), 'the other writer');
    await eventually(async () => ((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length === 0, 'the multipart upload aborted');
    await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, 'the spool empty');
  });

  it('pending markers are never listed or served; a stale one does not block its name, a fresh one of another server does', async (t) => {
    const { port, bucket, server } = await startS3Server(t);
    await putObject(bucket, 'claimed.bin', '', staleMarker());
    await putObject(bucket, 'live.bin', '', freshMarker());
    await putObject(bucket, 'real-empty.txt', '');
    await server.feed.rescan();
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual((await client.listing()).map((row) => row.split('\t')[0]), ['real-empty.txt']);
    assert.deepEqual([await client.request('stat claimed.bin'), await client.line()], [Reply.OK, Reply.NOT_FOUND]);
    assert.deepEqual(await client.upload('claimed.bin', Buffer.from('mine')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(String(await getObject(bucket, 'claimed.bin')), 'mine');
    // Another server's claim in progress is neither removed by the listing nor taken over.
    assert.deepEqual(await client.upload('live.bin', Buffer.from('mine')), [Reply.OK, Reply.OK, errorReply(ErrorKind.FILE_EXISTS, 'live.bin')]);
    assert.equal((await metadataOf(bucket, 'live.bin'))['tor-state'], 'pending');
  });

  it('a second server on the same bucket and prefix is refused while the first runs, and starts once it stopped or its lease went stale', async (t) => {
    const first = await startS3Server(t);
    await assert.rejects(startS3Server(t, { bucket: first.bucket }), (error: Error) => {
      assert.match(error.message, new RegExp(`^s3 ${engine!.endpoint}/${first.bucket}/: another tor-server is serving this bucket and prefix \\(its lease .tor-lease was renewed \\d+ s ago\\): stop that server first, or give this one its own --s3-prefix; the lease of a server that stopped without releasing it expires 90 s after its last renewal$`));
      return true;
    });
    await within(first.server.close(0), WAIT_MS, 'the first server to stop');
    const second = await startS3Server(t, { bucket: first.bucket });
    await within(second.server.close(0), WAIT_MS, 'the second server to stop');
    // A server that died without releasing it: its lease, last renewed long ago, is taken over.
    await putObject(first.bucket, '.tor-lease', '{}', { 'tor-owner': 'a-dead-server', 'tor-at': new Date(Date.now() - 10 * 60_000).toISOString() });
    const third = await startS3Server(t, { bucket: first.bucket });
    const client = await LineClient.connect(t, third.port);
    assert.deepEqual(await client.upload('after.txt', Buffer.from('x')), [Reply.OK, Reply.OK, Reply.END]);
  });

  it('lists more than one page: 2,500 objects, every one once, sorted', async (t) => {
    const { port, bucket } = await startS3Server(t);
    const names = Array.from({ length: 2500 }, (_, i) => `file-${String(i).padStart(5, '0')}.txt`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((name) => putObject(bucket, name, name)));
    // Objects outside the prefix's top level are no files of this server.
    await putObject(bucket, 'folder/inside.txt', 'x');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show', 60_000), Reply.OK);
    const rows = await client.listing(60_000);
    assert.deepEqual(rows.map((row) => row.split('\t')[0]), names);
    assert.deepEqual(rows.slice(0, 1), [`file-00000.txt\t14\t${rows[0]!.split('\t')[2]}`]);
  });

  it('a prefix keeps two servers apart in one bucket; the console names endpoint, bucket and prefix', async (t) => {
    const a = await startS3Server(t, { s3Prefix: 'team-a' });
    assert.equal(formatStoreLine(a.server.storeState()), `store s3 ${engine!.endpoint}/${a.bucket}/team-a/ (reachable)`);
    const b = await startS3Server(t, { bucket: a.bucket, s3Prefix: 'team-b/' });
    const ca = await LineClient.connect(t, a.port);
    const cb = await LineClient.connect(t, b.port);
    assert.deepEqual(await ca.upload('a.txt', Buffer.from('A')), [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual(await cb.upload('a.txt', Buffer.from('B')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(String(await getObject(a.bucket, 'team-a/a.txt')), 'A');
    assert.equal(String(await getObject(a.bucket, 'team-b/a.txt')), 'B');
    const keys = (await engine!.client.send(new ListObjectsV2Command({ Bucket: a.bucket }))).Contents!.map((o) => o.Key);
    assert.deepEqual(keys.sort(), ['team-a/.tor-lease', 'team-a/a.txt', 'team-b/.tor-lease', 'team-b/a.txt']);
  });

  it('watchers see objects others put into or delete from the bucket, at the next poll', async (t) => {
    const { port, bucket } = await startS3Server(t, { s3PollIntervalMs: 200 });
    const watcher = await rawWatcher(t, port);
    await putObject(bucket, 'from elsewhere.txt', 'hello');
    assert.match(await watcher.client.line(), new RegExp(`^added ${watcher.seq + 1}\tfrom elsewhere\\.txt\t5\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z$`));
  });

  it('a restart deletes the stale pending markers an earlier run left, and leaves recent claims and uploads alone', async (t) => {
    const first = await startS3Server(t);
    await within(first.server.close(0), WAIT_MS, 'the first server to stop');
    const { bucket } = first;
    // Younger than the stale age: possibly a live server's (aborted by a later sweep once old).
    await engine!.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'recent.bin' }));
    await putObject(bucket, 'recent.bin', '', freshMarker());
    await putObject(bucket, 'left.bin', '', staleMarker());
    const { port } = await startS3Server(t, { bucket });
    assert.equal(((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length, 1);
    assert.equal(await getObject(bucket, 'left.bin'), undefined);
    assert.equal((await metadataOf(bucket, 'recent.bin'))['tor-state'], 'pending');
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('left.bin', Buffer.from('x')), [Reply.OK, Reply.OK, Reply.END]);
  });
});
