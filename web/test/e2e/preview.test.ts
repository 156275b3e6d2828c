import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { listedNames, openApp, row } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, UI_TIMEOUT_MS, useSuite, withScreenshots } from './harness.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const HTTP_PARTIAL_CONTENT = 206;

const photo = await readFile(path.join(FIXTURES, 'photo.png'));
const clip = await readFile(path.join(FIXTURES, 'clip.webm'));

/** Chromium's PDF viewer, an extension that renders the PDF in its own frame. */
const PDF_VIEWER_ORIGIN = 'chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai';

/** A one-page PDF showing `text`, with a correct cross-reference table. */
function onePagePdf(text: string): Buffer {
  const content = `BT /F1 24 Tf 40 100 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((object, i) => {
    const offset = pdf.length;
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

describe('previews', { skip: browserSkipReason() }, () => {
  const readme = Buffer.from('Plain text, shown as text.\n<script>not run</script>\n');
  const suite = useSuite({
    'photo.png': photo,
    'clip.webm': clip,
    'readme.txt': readme,
    'data.bin': Buffer.alloc(64),
    'report.pdf': onePagePdf('Quarterly report'),
    'evil.js': 'window.ownedByUpload = true;\n',
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
      }, 'the image to load', UI_TIMEOUT_MS);
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
      }, 'the video to play', UI_TIMEOUT_MS);

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
      await eventually(
        async () => assert.equal(await text.locator('pre').innerText(), 'Plain text, shown as text.\n<script>not run</script>\n'),
        'the text preview',
        UI_TIMEOUT_MS,
      );
      await text.getByRole('button', { name: 'Close preview' }).click();
      await text.waitFor({ state: 'hidden' });

      await row(page, 'data.bin').getByRole('button').click();
      const other = page.getByRole('dialog', { name: 'data.bin' });
      await other.getByText('There is no preview for this type of file.').waitFor();
      assert.equal(await other.getByRole('link', { name: 'Download' }).getAttribute('href'), '/api/files/data.bin');
    }),
  );

  it(
    'renders a PDF in the preview frame under the sandboxed policy every served file gets',
    withScreenshots('preview-pdf', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const served = page.waitForResponse((response) => response.url().includes('/api/files/report.pdf'));
      await openPreview(page, 'report.pdf');
      const policy = (await (await served).allHeaders())['content-security-policy'] ?? '';
      assert.match(policy, /(^|;\s*)sandbox(\s*;|$)/, policy);
      assert.match(policy, /default-src 'none'/, policy);
      // The viewer loads in its own extension frame and reports the document it rendered.
      await eventually(async () => {
        const viewer = page.frames().find((frame) => frame.url().startsWith(PDF_VIEWER_ORIGIN));
        assert.ok(viewer, `no PDF viewer frame among ${page.frames().map((frame) => frame.url()).join(', ')}`);
        const state = await viewer.evaluate(() => {
          const element = document.querySelector('pdf-viewer') as (Element & { loadState_?: string }) | null;
          return element ? (element.loadState_ ?? 'unknown') : 'missing';
        });
        // loadState_ is the viewer's own field; 'unknown' only if a later Chromium renames it.
        assert.ok(state === 'success' || state === 'unknown', `the PDF viewer says ${state}`);
      }, 'the PDF viewer', UI_TIMEOUT_MS);
    }),
  );

  it(
    'an uploaded script cannot run as the app: <script src> of it is refused',
    withScreenshots('uploaded-script', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      // Inserted from the test (the app's own policy allows scripts of its origin, as this one is).
      const outcome = await page.evaluate(
        (timeoutMs) =>
          new Promise<string>((resolve) => {
            const script = document.createElement('script');
            script.src = '/api/files/evil.js';
            script.onload = () => resolve('loaded');
            script.onerror = () => resolve('refused');
            setTimeout(() => resolve('no answer'), timeoutMs);
            document.head.append(script);
          }),
        UI_TIMEOUT_MS,
      );
      assert.equal(outcome, 'refused');
      assert.equal(await page.evaluate(() => (window as { ownedByUpload?: boolean }).ownedByUpload), undefined);
    }),
  );

  it(
    'steps through the listed files with the arrow keys and the buttons, in the order and search shown',
    withScreenshots('preview-navigation', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openPreview(page, 'data.bin');
      const title = () => page.locator('#preview-title').innerText();
      await page.keyboard.press('ArrowRight');
      await eventually(async () => assert.equal(await title(), 'evil.js'), 'the page to show it', UI_TIMEOUT_MS);
      await page.keyboard.press('ArrowRight');
      await eventually(async () => assert.equal(await title(), 'photo.png'), 'the page to show it', UI_TIMEOUT_MS);
      assert.match(await page.getByRole('dialog').innerText(), /4 of 6/);
      await page.keyboard.press('ArrowLeft');
      await eventually(async () => assert.equal(await title(), 'evil.js'), 'the page to show it', UI_TIMEOUT_MS);
      await page.getByRole('button', { name: 'Previous file' }).click();
      await eventually(async () => assert.equal(await title(), 'data.bin'), 'the page to show it', UI_TIMEOUT_MS);
      await page.getByRole('button', { name: 'Previous file' }).click();
      await eventually(async () => assert.equal(await title(), 'clip.webm'), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(await page.getByRole('button', { name: 'Previous file' }).isDisabled(), 'the first file has no previous');
      // Focus fell from the disabled button; the keys still work.
      await page.keyboard.press('ArrowRight');
      await eventually(async () => assert.equal(await title(), 'data.bin'), 'the page to show it', UI_TIMEOUT_MS);
      await page.keyboard.press('Escape');

      // Within a search, only the matching files, largest first when sorted by size.
      await page.getByRole('searchbox', { name: 'Search files' }).fill('re');
      await eventually(async () => assert.deepEqual(await listedNames(page), ['readme.txt', 'report.pdf']), 'the page to show it', UI_TIMEOUT_MS);
      await page.getByRole('button', { name: 'Sort by Size' }).click();
      await eventually(async () => assert.deepEqual(await listedNames(page), ['report.pdf', 'readme.txt']), 'the page to show it', UI_TIMEOUT_MS);
      await row(page, 'report.pdf').getByRole('button', { name: 'Preview report.pdf' }).click();
      await page.getByRole('dialog', { name: 'report.pdf' }).waitFor();
      await page.keyboard.press('ArrowRight');
      await eventually(async () => assert.equal(await title(), 'readme.txt'), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(await page.getByRole('button', { name: 'Next file' }).isDisabled(), 'the last match has no next');
    }),
  );

  it(
    "shows a file's SHA-256 on request, as the tor-server computes it, with a copy button",
    withScreenshots('preview-sha256', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await suite.browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.stack.url });
      const dialog = await openPreview(page, 'readme.txt');
      await dialog.getByRole('button', { name: 'Show SHA-256' }).click();
      const expected = createHash('sha256').update(readme).digest('hex');
      const field = dialog.getByTestId('sha256');
      await field.waitFor();
      assert.equal(await field.inputValue(), expected);
      await dialog.getByRole('button', { name: 'Copy SHA-256' }).click();
      await dialog.getByText('Copied').waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), expected);
    }),
  );
});
