import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { badge, listedNames, openApp, row } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, UI_TIMEOUT_MS, useSuite, withScreenshots } from './harness.js';

const seeded: Record<string, Buffer> = {
  'notes.txt': Buffer.from('Meeting notes\n'),
  'Quarterly report Q3.pdf': randomBytes(40_000),
  'report-draft.txt': Buffer.from('draft'),
  'Année 2026 résumé.bin': randomBytes(300_000),
  'zeta.zip': randomBytes(1000),
};
const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });

describe('file list, search and download', { skip: browserSkipReason() }, () => {
  const suite = useSuite(seeded);

  it(
    'lists the seeded files with a count, total size and a connected badge',
    withScreenshots('listing', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      assert.deepEqual(await listedNames(page), Object.keys(seeded).sort(byName));
      assert.match(await page.getByTestId('summary').innerText(), /^5 files · 341 kB$/);
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the badge to say online', UI_TIMEOUT_MS);
      assert.match(await badge(page).innerText(), /Connected/);
    }),
  );

  it(
    'narrows the list as you type, highlights the match and restores the list when cleared',
    withScreenshots('search', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      // "/" focuses the search box from anywhere.
      await page.keyboard.press('/');
      await page.keyboard.type('REPORT');
      await eventually(
        async () => assert.deepEqual(await listedNames(page), ['Quarterly report Q3.pdf', 'report-draft.txt']),
        'the search to narrow the list',
        UI_TIMEOUT_MS,
      );
      const marks = await page.locator('tbody mark').allInnerTexts();
      assert.deepEqual(marks, ['report', 'report']);
      assert.match(await page.getByTestId('summary').innerText(), /2 files matching “REPORT”/);

      await page.keyboard.press('Escape');
      await eventually(async () => assert.equal((await listedNames(page)).length, 5), 'all five files listed', UI_TIMEOUT_MS);
      assert.equal(await page.locator('tbody mark').count(), 0);

      await page.getByRole('searchbox', { name: 'Search files' }).fill('no such file');
      await page.getByText('No files match “no such file”').waitFor();
      await page.getByRole('button', { name: 'Clear search' }).first().click();
      await eventually(async () => assert.equal((await listedNames(page)).length, 5), 'all five files listed again', UI_TIMEOUT_MS);
    }),
  );

  it(
    'shows each file once when a listing repeats rows (regression: each_key_duplicate emptied the list)',
    withScreenshots('duplicate-rows', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // Between the page and the real gateway, every listing arrives with each row twice.
      await page.routeWebSocket(/\/api\/ws$/, (socket) => {
        const gateway = socket.connectToServer();
        gateway.onMessage((message) => {
          const parsed = JSON.parse(String(message)) as { ok?: boolean; files?: unknown[] };
          if (parsed.ok && Array.isArray(parsed.files)) parsed.files = [...parsed.files, ...parsed.files];
          socket.send(JSON.stringify(parsed));
        });
      });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await openApp(page, suite.stack.url);
      assert.deepEqual(await listedNames(page), Object.keys(seeded).sort(byName));
      assert.match(await page.getByTestId('summary').innerText(), /^5 files · 341 kB$/);
      assert.deepEqual(errors, []);
    }),
  );

  it(
    'sorts by size and back by name from the column headers',
    withScreenshots('sort', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      await page.getByRole('button', { name: 'Sort by Size' }).click();
      const bySize = Object.entries(seeded)
        .sort(([, a], [, b]) => b.length - a.length)
        .map(([name]) => name);
      assert.deepEqual(await listedNames(page), bySize);
      assert.equal(await page.locator('th.size').getAttribute('aria-sort'), 'descending');
      await page.getByRole('button', { name: 'Sort by Name' }).click();
      assert.deepEqual(await listedNames(page), Object.keys(seeded).sort(byName));
    }),
  );

  it(
    'downloads with one click under the real name, byte-identical',
    withScreenshots('download', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      const name = 'Année 2026 résumé.bin';
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        row(page, name).getByRole('link', { name: `Download ${name}` }).click(),
      ]);
      assert.equal(download.suggestedFilename(), name);
      const saved = await download.path();
      assert.ok(saved, 'the download finished');
      assert.ok((await readFile(saved)).equals(seeded[name]!), 'downloaded bytes equal the original');
    }),
  );

  it(
    'works from the keyboard alone: labelled controls in order, Enter previews, Escape returns focus',
    withScreenshots('keyboard', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      const isFocused = (locator: Locator) => locator.evaluate((element) => element === document.activeElement);
      await page.keyboard.press('/');
      assert.ok(await isFocused(page.getByRole('searchbox', { name: 'Search files' })));
      const first = Object.keys(seeded).sort(byName)[0]!;
      const expectedOrder: Array<[string, Locator]> = [
        ['upload', page.getByRole('button', { name: 'Upload files' })],
        ['sort by name', page.getByRole('button', { name: 'Sort by Name' })],
        ['sort by size', page.getByRole('button', { name: 'Sort by Size' })],
        ['sort by date', page.getByRole('button', { name: 'Sort by Modified' })],
        ['preview of the first file', row(page, first).getByRole('button', { name: `Preview ${first}` })],
        ['download of the first file', row(page, first).getByRole('link', { name: `Download ${first}` })],
      ];
      for (const [what, locator] of expectedOrder) {
        await page.keyboard.press('Tab');
        assert.ok(await isFocused(locator), `Tab reaches the ${what}`);
      }

      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: first });
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.ok(await isFocused(expectedOrder[4]![1]), 'focus is back on the row that opened the preview');
    }),
  );
});
