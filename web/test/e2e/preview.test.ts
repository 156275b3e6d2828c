import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { openApp, row } from './app-page.js';
import { browserSkipReason, eventually, UI_TIMEOUT_MS, useSuite, withScreenshots } from './harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const HTTP_PARTIAL_CONTENT = 206;

const photo = await readFile(path.join(FIXTURES, 'photo.png'));
const clip = await readFile(path.join(FIXTURES, 'clip.webm'));

describe('previews', { skip: browserSkipReason() }, () => {
  const suite = useSuite({
    'photo.png': photo,
    'clip.webm': clip,
    'readme.txt': Buffer.from('Plain text, shown as text.\n<script>not run</script>\n'),
    'data.bin': Buffer.alloc(64),
  });

  async function openPreview(page: Page, name: string) {
    await openApp(page, suite.stack.url);
    await row(page, name).getByRole('button', { name: `Preview ${name}` }).click();
    const dialog = page.getByRole('dialog', { name });
    await dialog.waitFor();
    return dialog;
  }

  it(
    'renders an image preview',
    withScreenshots('preview-image', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const dialog = await openPreview(page, 'photo.png');
      const image = dialog.getByRole('img', { name: 'photo.png' });
      await eventually(async () => {
        const size = await image.evaluate((img: HTMLImageElement) => [img.complete, img.naturalWidth, img.naturalHeight]);
        assert.deepEqual(size, [true, 120, 80]);
      });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    }),
  );

  it(
    'plays a video and seeks in it through HTTP Range requests',
    withScreenshots('preview-video', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const statuses: number[] = [];
      page.on('response', (response) => {
        if (response.url().includes('/api/files/clip.webm')) statuses.push(response.status());
      });
      const dialog = await openPreview(page, 'clip.webm');
      const video = dialog.locator('video');
      await video.waitFor();

      // Muted, so the autoplay policy allows play() from a script.
      await video.evaluate((element: HTMLVideoElement) => {
        element.muted = true;
        return element.play();
      });
      await eventually(async () => {
        const currentTime = await video.evaluate((element: HTMLVideoElement) => element.currentTime);
        assert.ok(currentTime > 0, `playing (currentTime ${currentTime})`);
      });

      const afterSeek = await video.evaluate(
        (element: HTMLVideoElement, timeoutMs) =>
          new Promise<{ time: number; duration: number }>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('the video never finished seeking')), timeoutMs);
            element.addEventListener(
              'seeked',
              () => {
                clearTimeout(timer);
                resolve({ time: element.currentTime, duration: element.duration });
              },
              { once: true },
            );
            element.currentTime = 2.5;
          }),
        UI_TIMEOUT_MS,
      );
      assert.equal(afterSeek.duration, 3);
      assert.ok(afterSeek.time >= 2.4, `seeked to ${afterSeek.time}`);
      assert.ok(statuses.includes(HTTP_PARTIAL_CONTENT), `Range requests answered 206 (saw ${statuses.join(', ')})`);
    }),
  );

  it(
    'shows text as text, and offers the download for a type it cannot preview',
    withScreenshots('preview-text', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const text = await openPreview(page, 'readme.txt');
      await eventually(async () =>
        assert.equal(await text.locator('pre').innerText(), 'Plain text, shown as text.\n<script>not run</script>\n'),
      );
      await text.getByRole('button', { name: 'Close preview' }).click();
      await text.waitFor({ state: 'hidden' });

      await row(page, 'data.bin').getByRole('button').click();
      const other = page.getByRole('dialog', { name: 'data.bin' });
      await other.getByText('There is no preview for this type of file.').waitFor();
      assert.equal(await other.getByRole('link', { name: 'Download' }).getAttribute('href'), '/api/files/data.bin');
    }),
  );
});
