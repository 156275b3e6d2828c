/**
 * The real thing: a private Ceph engine (scripts/s3-engine) stopped with stop.sh in the middle of
 * a download and started again with start.sh on the same folder. Private, so the engine the
 * other tests share never goes away under them. About 35 s: it runs where the shared engine
 * does (S3_ENDPOINT) and Ceph's programs are installed.
 */
import assert from 'node:assert/strict';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha256 } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes, startServer } from '../helpers.js';
import { NO_ENGINE } from './s3-helpers.js';

const run = promisify(execFile);
const SCRIPTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/s3-engine');
// Ports the engine takes from its base on (S3, monitor, daemons).
const ENGINE_PORTS = 20;
const ENGINE_MS = 120_000;
const CEPH_INSTALLED = existsSync('/usr/bin/radosgw') && existsSync('/usr/bin/ceph-mon');
const SKIP = NO_ENGINE || (CEPH_INSTALLED ? false : 'Ceph is not installed here (scripts/s3-engine/start.sh installs it)');

/** A base port with the next ENGINE_PORTS - 1 ports free as well. */
async function freeRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let port = base; port < base + ENGINE_PORTS && free; port++) free = await bindable(port);
    if (free) return base;
  }
  throw new Error('no free range of ports for a private engine');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

describe('a real engine stopped and started again', { skip: SKIP }, () => {
  it('mid-download: stop.sh cuts the download, commands answer Server error, and after start.sh all works again', { timeout: ENGINE_MS * 2 }, async (t) => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'tor-ceph-'));
    // One clean-up, in this order: the daemons stop before their folder goes.
    t.after(async () => {
      await run('bash', [path.join(SCRIPTS, 'stop.sh'), data], { timeout: ENGINE_MS }).catch(() => {});
      await rm(data, { recursive: true, force: true });
    });
    const base = await freeRange();
    const env = { ...process.env, CEPH_OSD_GB: '2' };
    await run('bash', [path.join(SCRIPTS, 'start.sh'), data, String(base)], { env, timeout: ENGINE_MS });
    const vars = Object.fromEntries(readFileSync(path.join(data, 's3.env'), 'utf8').trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
    const client = new S3Client({ endpoint: vars.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: vars.AWS_ACCESS_KEY_ID!, secretAccessKey: vars.AWS_SECRET_ACCESS_KEY! } });
    t.after(() => client.destroy());
    await client.send(new CreateBucketCommand({ Bucket: 'restart-test' }));
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY });
    const { port, server } = await startServer(t, { store: 's3', s3Endpoint: vars.S3_ENDPOINT, s3Bucket: 'restart-test' });

    const bytes = patternBytes(16 * 1024 * 1024, 11);
    const uploader = await LineClient.connect(t, port);
    assert.deepEqual(await uploader.upload('kept.bin', bytes, 60_000), [Reply.OK, Reply.OK, Reply.END]);
    const reader = await LineClient.connect(t, port);
    assert.deepEqual([await reader.request('download kept.bin'), await reader.line(), await reader.line()], [Reply.OK, 'found', String(bytes.length)]);
    await reader.bytes(1024 * 1024);

    await run('bash', [path.join(SCRIPTS, 'stop.sh'), data], { timeout: ENGINE_MS });
    const rest = await reader.rest(60_000);
    assert.ok(rest.length < bytes.length - 1024 * 1024, 'the download was cut short');
    const during = await LineClient.connect(t, port);
    assert.match(await during.request('show', 60_000), /^Server error: could not list the files \(the S3 engine is unreachable \(E[A-Z]+\)\)$/);
    assert.match(server.storeState().state, /^last error: the S3 engine is unreachable/);

    await run('bash', [path.join(SCRIPTS, 'start.sh'), data, String(base)], { env, timeout: ENGINE_MS });
    assert.equal(sha256(await during.download('download kept.bin', 60_000)), sha256(bytes));
    assert.equal(server.storeState().state, 'reachable');
  });
});
