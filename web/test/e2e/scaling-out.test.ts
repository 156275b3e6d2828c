import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { filePath } from 'gateway/api';
import { Scope, eventually, s3Bucket, s3Engine, scratchDir, spawnGateway, spawnTorServer, type GatewayProcess } from 'test-support';
import { openApp, row } from './app-page.js';
import { launchBrowser, type LaunchedBrowser } from './browser.js';
import { browserSkipReason, UI_TIMEOUT_MS } from './harness.js';
import { WEB_DIST, requireBuilt } from './processes.js';

// The promise for scaling out: a change made through one gateway reaches the browsers of another within a second.
const LIVE_CHANGE_MS = 1000;
const engine = s3Engine();

describe('two gateways in front of one tor-server on the S3 store', { skip: browserSkipReason() || (!engine && 'no S3 engine (S3_ENDPOINT)') }, () => {
  const scope = new Scope();
  let first: GatewayProcess;
  let second: GatewayProcess;
  let browser: LaunchedBrowser;

  before(async () => {
    requireBuilt();
    const s3 = engine!;
    const bucket = await s3Bucket(scope, s3);
    // The folder holds only work files on S3: the bytes live in the bucket.
    const workDir = await scratchDir(scope, 'tft-e2e-s3-work-');
    const tor = await spawnTorServer(scope, { dir: workDir, args: ['--store', 's3', '--s3-endpoint', s3.endpoint, '--s3-bucket', bucket, '--s3-region', s3.region], env: s3.env });
    first = await spawnGateway(scope, { torPort: tor.port, webDir: WEB_DIST });
    second = await spawnGateway(scope, { torPort: tor.port, webDir: WEB_DIST });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await scope.close();
  });

  it('an upload through one gateway shows in a browser on the other within a second, with identical bytes', async () => {
    const page: Page = await browser.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    const name = 'through-the-first.bin';
    const data = randomBytes(256 * 1024);
    let heardAt: number | undefined;
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        if (heardAt === undefined && String(payload).includes('"files-changed"') && String(payload).includes(name)) heardAt = Date.now();
      }),
    );
    try {
      await openApp(page, second.url);

      const stored = await fetch(`${first.url}${filePath(name)}`, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(stored.status, 201, await stored.text());
      const storedAt = Date.now();

      await row(page, name).waitFor();
      await eventually(async () => heardAt !== undefined, 'the change on the second gateway', UI_TIMEOUT_MS);
      const delay = heardAt! - storedAt;
      console.log(`scaling out: the second gateway's browser heard of the upload ${delay} ms after the first gateway answered it`);
      assert.ok(delay < LIVE_CHANGE_MS, `heard after ${delay} ms`);

      const fetched = Buffer.from(await (await fetch(`${second.url}${filePath(name)}`)).arrayBuffer());
      assert.ok(fetched.equals(data), 'identical bytes through the other gateway');
    } finally {
      await page.close();
    }
  });
});
