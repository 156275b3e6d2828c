import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { ApiPath, TUS_CHUNK_BYTES, TUS_CONTENT_TYPE, TusHeader } from 'gateway/api';
import { PARTIALS_DIR_NAME } from 'tor-server/server';
import { eventually, Scope, scratchDir, sha256 } from 'test-support';
import { openApp, transfer } from './app-page.js';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

/** Two and a half chunks: a first one stored, the rest still to send. */
const FILE_BYTES = 2 * TUS_CHUNK_BYTES + TUS_CHUNK_BYTES / 2;

/** The tus requests the page makes, with the offset each PATCH starts at. */
function tusRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request) => {
    if (!request.url().includes(ApiPath.uploads)) return;
    const offset = request.headers()['upload-offset'];
    seen.push(offset === undefined ? request.method() : `${request.method()} ${offset}`);
  });
  return seen;
}

/** The Upload-Checksum of every request that carries bytes (the creation's POST and the PATCHes), with its offset. */
function chunkChecksums(page: Page): { offset: number; checksum: string | undefined }[] {
  const seen: { offset: number; checksum: string | undefined }[] = [];
  page.on('request', (request) => {
    const headers = request.headers();
    if (!request.url().includes(ApiPath.uploads) || headers['content-type'] !== TUS_CONTENT_TYPE) return;
    seen.push({ offset: Number(headers[TusHeader.uploadOffset] ?? 0), checksum: headers[TusHeader.uploadChecksum] });
  });
  return seen;
}

/** Asserts that every chunk sent carried the sha256 of its own bytes of `data`. */
function assertChecksummed(sent: { offset: number; checksum: string | undefined }[], data: Buffer): void {
  assert.ok(sent.length >= 3, `the chunks were seen: ${sent.length}`);
  for (const { offset, checksum } of sent) {
    const expected = createHash('sha256').update(data.subarray(offset, offset + TUS_CHUNK_BYTES)).digest('base64');
    assert.equal(checksum, `sha256 ${expected}`, `the chunk at ${offset}`);
  }
}

/** Holds the page's first PATCH (sent once the POST has stored the first chunk) until released. */
async function holdFirstPatch(page: Page): Promise<{ held: Promise<Route>; stop(): Promise<void> }> {
  const pattern = `**${ApiPath.uploads}*`;
  let hold!: (route: Route) => void;
  const held = new Promise<Route>((resolve) => (hold = resolve));
  let holding = true;
  await page.route(pattern, (route) => {
    if (holding && route.request().method() === 'PATCH') {
      holding = false;
      hold(route);
    } else void route.continue();
  });
  return { held, stop: () => page.unroute(pattern) };
}

async function chooseFile(page: Page, file: string): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Upload files' }).click()]);
  // From a file on disk, so the page sees the same modification time when it is picked again.
  await chooser.setFiles(file);
}

describe('resumable uploads in the browser', { skip: browserSkipReason() }, () => {
  const suite = useSuite({});
  // The files the page picks, on disk.
  const scope = new Scope();
  after(() => scope.close());

  async function scratchFile(name: string): Promise<{ file: string; data: Buffer }> {
    const file = path.join(await scratchDir(scope, 'tft-resume-'), name);
    const data = randomBytes(FILE_BYTES);
    await writeFile(file, data);
    return { file, data };
  }

  async function assertStoredSame(page: Page, name: string, data: Buffer): Promise<void> {
    await eventually(async () => assert.equal(await transfer(page, name).getAttribute('data-status'), 'done'), `${name} uploaded`, UI_TIMEOUT_MS);
    assert.equal(sha256(await readFile(path.join(suite.stack.dir, name))), sha256(data), `${name} is stored byte for byte`);
  }

  /**
   * Opens the app in a new tab and uploads a fresh file `name` until its first chunk is stored,
   * its first PATCH held: `patch` lets it go on, `release` lets later ones through.
   */
  async function uploadFirstChunk(pages: Page[], name: string) {
    const page = await suite.newPage();
    pages.push(page);
    const { file, data } = await scratchFile(name);
    const requests = tusRequests(page);
    const checksums = chunkChecksums(page);
    await openApp(page, suite.stack.url);
    const hold = await holdFirstPatch(page);
    await chooseFile(page, file);
    const patch = await hold.held;
    const item = transfer(page, name);
    await eventually(async () => assert.match(await item.innerText(), /8\.4 MB of 21 MB/), 'the first chunk counted', UI_TIMEOUT_MS);
    return { page, file, data, requests, checksums, item, patch, release: hold.stop };
  }

  /** Neither a second upload created, nor a byte sent again from 0. */
  function assertResumed(requests: string[]): void {
    assert.equal(requests.filter((request) => request.startsWith('POST')).length, 1, `one upload created: ${requests.join(', ')}`);
    assert.ok(!requests.includes('PATCH 0'), `nothing sent again from 0: ${requests.join(', ')}`);
  }

  it(
    'an upload cut by going offline resumes by itself when the browser is back online, with identical bytes',
    withScreenshots('upload-offline', suite, async (pages) => {
      const { page, data, requests, checksums, item, patch, release } = await uploadFirstChunk(pages, 'offline.bin');

      await page.context().setOffline(true);
      // The held PATCH goes on now, into a network that is gone.
      await patch.continue().catch(() => {});
      await release();
      await eventually(async () => assert.match(await item.innerText(), /Offline: resumes when the network is back/), 'the upload waits for the network', UI_TIMEOUT_MS);
      assert.equal(await item.getAttribute('data-status'), 'uploading');

      await page.context().setOffline(false);
      await assertStoredSame(page, 'offline.bin', data);
      // Resumed where the server stood: a HEAD, then the rest from the first chunk's end; never from 0 again.
      const afterCut = requests.slice(requests.indexOf(`PATCH ${TUS_CHUNK_BYTES}`) + 1);
      assert.ok(afterCut.includes('HEAD'), `asked where to resume: ${requests.join(', ')}`);
      assertResumed(requests);
      assertChecksummed(checksums, data);
    }),
  );

  it(
    'an upload cut by a gateway restart resumes by itself once the gateway is back, with identical bytes',
    withScreenshots('upload-gateway-restart', suite, async (pages) => {
      const { page, data, requests, patch, release } = await uploadFirstChunk(pages, 'restart.bin');

      await suite.stack.stopGateway();
      // The held PATCH goes on now, to a gateway that is gone; the retries meet it down, then back.
      await patch.continue().catch(() => {});
      await release();
      await suite.stack.restartGateway();
      await assertStoredSame(page, 'restart.bin', data);
      assertResumed(requests);
    }),
  );

  it(
    'after a reload the unfinished upload is listed with its progress, and picking the file again resumes it',
    withScreenshots('upload-reload', suite, async (pages) => {
      const { page, file, data, requests, release } = await uploadFirstChunk(pages, 'reload.bin');
      // Leaving a page with uploads running asks first; the user says leave.
      page.on('dialog', (dialog) => void dialog.accept());

      // Reloaded while the second chunk's PATCH is still held, so it never reaches the server:
      // let go before the reload, it could be stored first (the page would then show 80%).
      await page.reload();
      await release();
      await page.getByTestId('summary').waitFor();
      const unfinished = page.locator('li[data-name="reload.bin"][data-status="unfinished"]');
      await unfinished.waitFor();
      assert.match(await unfinished.innerText(), /40%[\s\S]*8\.4 MB of 21 MB stored · Pick the file again to resume/);
      assert.equal(await readFile(path.join(suite.stack.dir, 'reload.bin')).catch(() => 'absent'), 'absent');

      const sentBefore = requests.length;
      await chooseFile(page, file);
      await assertStoredSame(page, 'reload.bin', data);
      assert.equal(await unfinished.count(), 0, 'no longer listed as unfinished');
      const resumed = requests.slice(sentBefore);
      assert.deepEqual(resumed.slice(0, 2), ['HEAD', `PATCH ${TUS_CHUNK_BYTES}`], `resumed from the stored chunk: ${resumed.join(', ')}`);
      assertResumed(requests);
    }),
  );

  it(
    'an unfinished upload listed after a reload can be discarded: gone from the list and from the server',
    withScreenshots('upload-discard', suite, async (pages) => {
      const { page, release } = await uploadFirstChunk(pages, 'discard.bin');
      page.on('dialog', (dialog) => void dialog.accept());
      await page.reload();
      await release();
      const unfinished = page.locator('li[data-name="discard.bin"][data-status="unfinished"]');
      await unfinished.getByRole('button', { name: 'Discard the unfinished upload of discard.bin' }).click();
      await eventually(async () => assert.equal(await unfinished.count(), 0), 'the entry gone', UI_TIMEOUT_MS);
      await eventually(async () => assert.deepEqual(await readdir(path.join(suite.stack.dir, PARTIALS_DIR_NAME)), []), 'the partial gone from the server', UI_TIMEOUT_MS);
      // Forgotten in the browser too, once the DELETE's answer is in: tus-js-client's URL storage holds nothing more.
      await eventually(
        async () => assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('tus::'))), []),
        'the stored URL forgotten',
        UI_TIMEOUT_MS,
      );
    }),
  );

  it(
    'an upload whose last answer was lost is complete on the server: after a reload it is not listed as unfinished, and forgotten',
    withScreenshots('upload-lost-answer', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const { file, data } = await scratchFile('lost.bin');
      await openApp(page, suite.stack.url);
      let blocking = true;
      const pattern = `**${ApiPath.uploads}*`;
      await page.route(pattern, async (route) => {
        const request = route.request();
        const last = request.method() === 'PATCH' && request.headers()[TusHeader.uploadOffset] === String(2 * TUS_CHUNK_BYTES);
        if (!blocking) return route.continue();
        if (last) {
          // The gateway gets it and commits; its answer never reaches the page.
          await route.fetch();
          return route.abort('connectionreset');
        }
        // The retries cannot ask either, until the reload.
        return request.method() === 'HEAD' ? route.abort('connectionreset') : route.continue();
      });
      await chooseFile(page, file);
      await eventually(async () => assert.equal(sha256(await readFile(path.join(suite.stack.dir, 'lost.bin'))), sha256(data)), 'lost.bin committed', UI_TIMEOUT_MS);
      blocking = false;
      page.on('dialog', (dialog) => void dialog.accept());
      await page.reload();
      await page.getByTestId('summary').waitFor();
      await eventually(
        async () => assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('tus::') && key.includes('lost.bin'))), []),
        'the complete upload forgotten',
        UI_TIMEOUT_MS,
      );
      assert.equal(await page.locator('li[data-name="lost.bin"][data-status="unfinished"]').count(), 0);
      await page.unroute(pattern);
    }),
  );
});
