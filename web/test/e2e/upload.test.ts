import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ErrorKind } from 'tor-server/protocol';
import { countListings, dropFiles, listedNames, openApp, transfer, uploadWithChooser, type PageFile } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

const existing = Buffer.from('the original, which must survive\n');
const clip = Buffer.from('the clip already on the server\n');

/** Answers the page's name check for `name` with "free" (404) without asking the gateway. */
async function answerNameCheckFree(page: Page, name: string): Promise<void> {
  await page.route(`**/api/files/${encodeURIComponent(name)}`, (route) =>
    route.request().method() === 'HEAD' ? route.fulfill({ status: 404 }) : route.continue(),
  );
}

describe('uploads', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'existing.txt': existing, 'clip.mp4': clip });

  async function assertStored(file: PageFile): Promise<void> {
    const onDisk = await readFile(path.join(suite.stack.dir, file.name));
    assert.ok(onDisk.equals(file.buffer), `${file.name} is stored byte for byte`);
  }

  async function assertDone(page: Page, name: string): Promise<void> {
    await eventually(async () => assert.equal(await transfer(page, name).getAttribute('data-status'), 'done'), 'the transfer to be done', UI_TIMEOUT_MS);
    assert.match(await transfer(page, name).innerText(), /100%/);
  }

  it(
    'uploads several files from the file chooser to 100%, and a second open page lists them without reloading',
    withScreenshots('upload-chooser', suite, async (pages) => {
      const [uploader, watcher] = [await suite.newPage(), await suite.newPage()];
      pages.push(uploader, watcher);
      await openApp(uploader, suite.stack.url);
      await openApp(watcher, suite.stack.url);
      const files: PageFile[] = [
        { name: 'alpha.bin', mimeType: 'application/octet-stream', buffer: randomBytes(3_000_000) },
        { name: 'beta notes.txt', mimeType: 'text/plain', buffer: Buffer.from('beta\n') },
      ];
      await uploadWithChooser(uploader, files);
      for (const file of files) await assertDone(uploader, file.name);
      for (const file of files) await assertStored(file);
      await eventually(async () => {
        const names = await listedNames(watcher);
        for (const file of files) assert.ok(names.includes(file.name), `${file.name} in ${names.join(', ')}`);
      }, 'every uploaded file listed', UI_TIMEOUT_MS);
    }),
  );

  it(
    'uploads a file dropped anywhere on the page, and a second open page lists it without reloading',
    withScreenshots('upload-drop', suite, async (pages) => {
      const [uploader, watcher] = [await suite.newPage(), await suite.newPage()];
      pages.push(uploader, watcher);
      await openApp(uploader, suite.stack.url);
      await openApp(watcher, suite.stack.url);
      const file: PageFile = { name: 'dropped café.txt', mimeType: 'text/plain', buffer: Buffer.from('dropped here\n') };
      await dropFiles(uploader, [file]);
      await assertDone(uploader, file.name);
      await assertStored(file);
      await eventually(async () => assert.ok((await listedNames(watcher)).includes(file.name)), 'the file listed in the other tab', UI_TIMEOUT_MS);
      assert.equal(await uploader.getByText('Drop files to upload').count(), 0, 'the drop overlay is gone');
    }),
  );

  it(
    'a name already on the server is offered as name (1).ext before any upload request is made',
    withScreenshots('upload-name-taken', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const sent: string[] = [];
      page.on('request', (request) => {
        if (!['GET', 'HEAD'].includes(request.method())) sent.push(`${request.method()} ${request.url()}`);
      });
      await openApp(page, suite.stack.url);
      const mine = Buffer.from('my own clip, not the one on the server\n');
      await uploadWithChooser(page, [{ name: 'clip.mp4', mimeType: 'video/mp4', buffer: mine }]);
      const item = transfer(page, 'clip.mp4');
      await eventually(async () => assert.equal(await item.getAttribute('data-status'), 'conflict'), 'the conflict shown', UI_TIMEOUT_MS);
      assert.match(await item.getByRole('alert').innerText(), /“clip\.mp4” is already on the server; nothing was sent/);
      assert.deepEqual(sent, [], 'no upload request was made');
      assert.ok((await readFile(path.join(suite.stack.dir, 'clip.mp4'))).equals(clip), 'the original is untouched');

      await item.getByRole('button', { name: 'Upload as “clip (1).mp4”' }).click();
      await assertDone(page, 'clip (1).mp4');
      await assertStored({ name: 'clip (1).mp4', mimeType: 'video/mp4', buffer: mine });
      assert.equal(sent.length, 1, `one upload request: ${sent.join(', ')}`);
      await eventually(async () => assert.ok((await listedNames(page)).includes('clip (1).mp4')), 'the renamed copy listed', UI_TIMEOUT_MS);

      // Cancel declines the offer; nothing is sent.
      await uploadWithChooser(page, [{ name: 'clip.mp4', mimeType: 'video/mp4', buffer: mine }]);
      const second = page.locator('li[data-name="clip.mp4"][data-status="conflict"]');
      await second.getByRole('button', { name: 'Upload as “clip (2).mp4”' }).waitFor();
      await second.getByRole('button', { name: 'Cancel upload of clip.mp4' }).click();
      await eventually(async () => assert.equal(await page.locator('li[data-name="clip.mp4"][data-status="cancelled"]').count(), 1), 'the upload cancelled', UI_TIMEOUT_MS);
      assert.equal(sent.length, 1, 'still only the one upload request');
    }),
  );

  it(
    "shows the server's own message when the upload itself is refused as taken (409), with the same offer",
    withScreenshots('upload-conflict', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // As if the file appeared between the check and the upload: the check says free.
      await answerNameCheckFree(page, 'existing.txt');
      await openApp(page, suite.stack.url);
      const replacement = Buffer.from('a different file with the same name\n');
      await uploadWithChooser(page, [{ name: 'existing.txt', mimeType: 'text/plain', buffer: replacement }]);
      const item = transfer(page, 'existing.txt');
      await eventually(async () => assert.equal(await item.getAttribute('data-status'), 'conflict'), 'the conflict shown', UI_TIMEOUT_MS);
      const shown = await item.getByRole('alert').innerText();
      assert.ok(shown.trim().startsWith(ErrorKind.FILE_EXISTS), `the server's message is shown: ${shown}`);
      assert.ok((await readFile(path.join(suite.stack.dir, 'existing.txt'))).equals(existing), 'the original is untouched');

      await item.getByRole('button', { name: 'Upload as “existing (1).txt”' }).click();
      await assertDone(page, 'existing (1).txt');
      await assertStored({ name: 'existing (1).txt', mimeType: 'text/plain', buffer: replacement });
      await eventually(async () => assert.ok((await listedNames(page)).includes('existing (1).txt')), 'the renamed copy listed', UI_TIMEOUT_MS);
    }),
  );

  it(
    'cancels a running upload, leaving nothing on the server, and retries it on request',
    withScreenshots('upload-cancel', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // The name check would wait on the frozen tor-server below; this test is about the upload.
      await answerNameCheckFree(page, 'slow.bin');
      await openApp(page, suite.stack.url);
      const before = (await readdir(suite.stack.dir)).sort();
      // Slow the page's uploads down (Chromium's own throttling) so there is time to cancel.
      const cdp = await page.context().newCDPSession(page);
      const throttle = (uploadThroughput: number) =>
        cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
      await throttle(500_000);
      // Chromium's throttling alone does not always hold the body back; a frozen tor-server
      // guarantees the upload cannot finish before it is cancelled.
      suite.stack.freezeTorServer();
      const file: PageFile = { name: 'slow.bin', mimeType: 'application/octet-stream', buffer: randomBytes(6_000_000) };
      const item = transfer(page, file.name);
      try {
        await uploadWithChooser(page, [file]);
        await eventually(async () => assert.match(await item.innerText(), /of 6 MB/), 'the progress shown', UI_TIMEOUT_MS);
        await item.getByRole('button', { name: `Cancel upload of ${file.name}` }).click();
        assert.equal(await item.getAttribute('data-status'), 'cancelled');
      } finally {
        suite.stack.thawTorServer();
      }
      await eventually(async () => assert.deepEqual((await readdir(suite.stack.dir)).sort(), before, 'nothing partial is stored'), 'the server folder unchanged', UI_TIMEOUT_MS);
      // The thawed tor-server still has to notice the cut upload and give its name back (until
      // then the name is taken by an upload in flight): a retry before that would meet a conflict.
      await eventually(async () => assert.deepEqual(await readdir(path.join(suite.stack.dir, '.tor-tmp')), []), 'the cut upload dropped by the tor-server', UI_TIMEOUT_MS);

      await throttle(-1);
      await item.getByRole('button', { name: 'Retry' }).click();
      await assertDone(page, file.name);
      await assertStored(file);
      await cdp.detach();
    }),
  );

  it(
    'regression: the uploading tab lists once, then patches in every stored file (its own and another tab\'s) without listing again',
    withScreenshots('upload-refresh-once', suite, async (pages) => {
      const [uploader, other] = [await suite.newPage(), await suite.newPage()];
      pages.push(uploader, other);
      const listings = countListings(uploader);
      await openApp(uploader, suite.stack.url);
      await openApp(other, suite.stack.url);
      await eventually(() => assert.equal(listings.count, 1, 'the first listing'), 'the page to show it', UI_TIMEOUT_MS);
      const own: PageFile = { name: 'once.txt', mimeType: 'text/plain', buffer: Buffer.from('once\n') };
      await uploadWithChooser(uploader, [own]);
      await assertDone(uploader, own.name);
      await eventually(async () => assert.ok((await listedNames(uploader)).includes(own.name)), 'the page to show it', UI_TIMEOUT_MS);
      const theirs: PageFile = { name: 'theirs.txt', mimeType: 'text/plain', buffer: Buffer.from('theirs\n') };
      await uploadWithChooser(other, [theirs]);
      await eventually(async () => assert.ok((await listedNames(uploader)).includes(theirs.name)), 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(listings.count, 1, 'no listing per stored file: each arrived as a change');
    }),
  );
});
