import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { listedNames, openApp, row } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, type Suite, UI_TIMEOUT_MS } from './harness.js';

/** Waits until the page knows its access level (the controls depend on it). */
async function openAs(page: Page, suite: Suite, access: string): Promise<void> {
  const answered = page.waitForResponse((response) => response.url().endsWith('/api/session'));
  await openApp(page, suite.stack.url);
  const response = await answered;
  assert.equal(((await response.json()) as { access: string }).access, access);
}

describe('delete and rename at admin access', { skip: browserSkipReason() }, () => {
  const suite = useSuite(
    {
      'a.txt': 'a\n',
      'b.txt': 'b\n',
      'c.txt': 'c\n',
      'typo.txt': 'the content stays\n',
      'taken.txt': 'already here\n',
      'keep me.txt': 'k\n',
    },
    { torServerArgs: ['--open-access', 'admin'] },
  );
  const onDisk = async () => (await readdir(suite.stack.dir)).filter((name) => !name.startsWith('.')).sort();

  it(
    'deletes one file after a confirmation naming it; Cancel keeps it',
    withScreenshots('delete-one', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openAs(page, suite, 'admin');
      await row(page, 'keep me.txt').getByRole('button', { name: 'Delete keep me.txt' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete “keep me.txt”?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.ok(existsSync(path.join(suite.stack.dir, 'keep me.txt')));

      await row(page, 'c.txt').getByRole('button', { name: 'Delete c.txt' }).click();
      await page.getByRole('dialog', { name: 'Delete “c.txt”?' }).getByRole('button', { name: 'Delete' }).click();
      await eventually(async () => assert.ok(!(await listedNames(page)).includes('c.txt')), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(!existsSync(path.join(suite.stack.dir, 'c.txt')), 'gone from the server');
    }),
  );

  it(
    'deletes several selected files at once, naming them all',
    withScreenshots('delete-selected', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openAs(page, suite, 'admin');
      await row(page, 'a.txt').getByRole('checkbox', { name: 'Select a.txt' }).check();
      await row(page, 'b.txt').getByRole('checkbox', { name: 'Select b.txt' }).check();
      assert.equal(await page.getByRole('checkbox', { name: 'Select all files' }).evaluate((box: HTMLInputElement) => box.indeterminate), true);
      await page.getByRole('region', { name: 'Selected files' }).getByText('2 selected').waitFor();
      await page.getByRole('button', { name: 'Delete selected' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete 2 files?' });
      assert.deepEqual(await dialog.getByRole('listitem').allInnerTexts(), ['a.txt', 'b.txt']);
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await eventually(async () => {
        const names = await listedNames(page);
        assert.ok(!names.includes('a.txt') && !names.includes('b.txt'), names.join(', '));
      }, 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(!(await onDisk()).includes('a.txt') && !(await onDisk()).includes('b.txt'));
      assert.equal(await page.getByRole('region', { name: 'Selected files' }).count(), 0, 'nothing is selected any more');
    }),
  );

  it(
    'renames inline: Escape cancels, a taken name is refused before sending, Enter saves',
    withScreenshots('rename-inline', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const patches: string[] = [];
      page.on('request', (request) => request.method() === 'PATCH' && patches.push(request.url()));
      await openAs(page, suite, 'admin');
      const field = page.getByRole('textbox', { name: 'New name for typo.txt' });

      await row(page, 'typo.txt').getByRole('button', { name: 'Rename typo.txt' }).click();
      await field.fill('never saved.txt');
      await field.press('Escape');
      await field.waitFor({ state: 'hidden' });
      assert.ok((await listedNames(page)).includes('typo.txt'));

      await row(page, 'typo.txt').getByRole('button', { name: 'Rename typo.txt' }).click();
      await field.fill('taken.txt');
      await field.press('Enter');
      await row(page, 'typo.txt').getByRole('alert').getByText('“taken.txt” is already on the server; choose another name').waitFor();
      assert.deepEqual(patches, [], 'nothing was sent for a taken name');

      await field.fill('fixed.txt');
      await field.press('Enter');
      await eventually(async () => {
        const names = await listedNames(page);
        assert.ok(names.includes('fixed.txt') && !names.includes('typo.txt'), names.join(', '));
      }, 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(await readFile(path.join(suite.stack.dir, 'fixed.txt'), 'utf8'), 'the content stays\n');
      assert.ok(!existsSync(path.join(suite.stack.dir, 'typo.txt')));
      assert.equal(await row(page, 'fixed.txt').getAttribute('data-highlight'), 'renamed');
    }),
  );
});

describe('refusals at write access', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'report.txt': 'r\n' });

  it(
    'shows no delete or rename at write access',
    withScreenshots('write-no-manage', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openAs(page, suite, 'write');
      await page.getByRole('button', { name: 'Upload files' }).waitFor();
      assert.equal(await row(page, 'report.txt').getByRole('button', { name: 'Delete report.txt' }).count(), 0);
      assert.equal(await row(page, 'report.txt').getByRole('button', { name: 'Rename report.txt' }).count(), 0);
      assert.equal(await page.getByRole('checkbox').count(), 0);
    }),
  );

  it(
    "shows the server's refusal when the page offers more than the server allows",
    withScreenshots('write-refusal', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // As if the server's level dropped after the page asked: the page offers delete and rename.
      await page.route('**/api/session', (route) => route.fulfill({ json: { access: 'admin' } }));
      await openAs(page, suite, 'admin');
      await row(page, 'report.txt').getByRole('button', { name: 'Delete report.txt' }).click();
      await page.getByRole('dialog', { name: 'Delete “report.txt”?' }).getByRole('button', { name: 'Delete' }).click();
      const message = page.getByTestId('action-error');
      await message.waitFor();
      assert.match(await message.innerText(), /^Permission denied: /m);
      assert.ok((await listedNames(page)).includes('report.txt'), 'the row stays');
      assert.ok(existsSync(path.join(suite.stack.dir, 'report.txt')), 'the file stays');

      await row(page, 'report.txt').getByRole('button', { name: 'Rename report.txt' }).click();
      const field = page.getByRole('textbox', { name: 'New name for report.txt' });
      await field.fill('other.txt');
      await field.press('Enter');
      await eventually(async () => assert.match(await row(page, 'report.txt').getByRole('alert').innerText(), /^Permission denied: /), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(existsSync(path.join(suite.stack.dir, 'report.txt')));
    }),
  );
});

describe('read access', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'manual.pdf': 'm\n' }, { torServerArgs: ['--open-access', 'read'] });

  it(
    'hides the upload controls',
    withScreenshots('read-no-upload', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openAs(page, suite, 'read');
      await eventually(async () => assert.equal(await page.getByRole('button', { name: 'Upload files' }).count(), 0), 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(await row(page, 'manual.pdf').getByRole('button', { name: 'Delete manual.pdf' }).count(), 0);
      assert.ok(await row(page, 'manual.pdf').getByRole('link', { name: 'Download manual.pdf' }).isVisible());
    }),
  );
});
