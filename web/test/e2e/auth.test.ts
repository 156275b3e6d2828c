import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ApiPath, SESSION_COOKIE, TOKEN_FRAGMENT } from 'gateway/api';
import { badge, listedNames, row, transfer, uploadWithChooser } from './app-page.js';
import { launchBrowser } from './browser.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

const REPORT = 'report.txt';
const PHOTO = 'photo.bin';
const PHOTO_BYTES = randomBytes(300_000);
const USED_UP = 'Permission denied: share link used up';

/** The sign-in screen's token field. */
const tokenField = (page: Page) => page.getByLabel('Access token');

/** Signs in on the sign-in screen (or dialog) with `token` by pressing Enter. */
async function signInWith(page: Page, token: string): Promise<void> {
  await tokenField(page).fill(token);
  await tokenField(page).press('Enter');
}

/** What the header says: the label and the level. */
async function whoAmI(page: Page): Promise<string> {
  const info = page.getByTestId('session-info');
  await info.waitFor();
  return `${await info.locator('.label').innerText()} ${await info.getByTestId('access-level').innerText()}`;
}

describe('sign-in, levels and share links with --auth required', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ [REPORT]: 'the quarterly report\n', [PHOTO]: PHOTO_BYTES }, { auth: true, tokens: { alice: 'admin', bob: 'read' } });

  /** A new tab with no session cookie in the browser, opened on `#token=<token>` when one is given. */
  async function freshPage(pages: Page[], token?: string): Promise<Page> {
    await suite.browser.context.clearCookies();
    const page = await suite.newPage();
    pages.push(page);
    if (token !== undefined) await page.goto(`${suite.stack.url}/#${TOKEN_FRAGMENT}=${encodeURIComponent(token)}`);
    return page;
  }

  it(
    'signs in after a refused token, shows who and what level, stays signed in on reload, signs out',
    withScreenshots('auth-sign-in', suite, async (pages) => {
      const page = await freshPage(pages);
      const sockets: string[] = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await page.goto(suite.stack.url);
      await tokenField(page).waitFor();
      assert.equal(await tokenField(page).getAttribute('type'), 'password');
      assert.equal(await tokenField(page).getAttribute('autocomplete'), 'off');
      assert.ok(await tokenField(page).evaluate((field) => field === document.activeElement), 'the token field has the focus');
      assert.equal(await page.getByTestId('summary').count(), 0, 'no file manager before signing in');

      assert.deepEqual(sockets, [], 'no WebSocket before signing in');
      await signInWith(page, 'tft_00000000_not-a-real-token');
      await page.getByRole('alert').filter({ hasText: 'Invalid token' }).waitFor();
      assert.equal(await page.getByRole('alert').innerText(), 'Invalid token');

      await signInWith(page, suite.stack.tokens.alice!);
      await page.getByTestId('summary').waitFor();
      assert.equal(await whoAmI(page), 'alice admin');
      assert.ok(sockets.length > 0, 'the WebSocket opens once signed in');

      const [cookie] = (await suite.browser.context.cookies(suite.stack.url)).filter((c) => c.name === SESSION_COOKIE);
      assert.ok(cookie, 'the session cookie is set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => document.cookie.includes('tft_')), false, 'scripts cannot read it');

      await page.reload();
      await page.getByTestId('summary').waitFor();
      assert.equal(await whoAmI(page), 'alice admin');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await tokenField(page).waitFor();
      assert.equal(await page.getByTestId('summary').count(), 0);
      await page.reload();
      await tokenField(page).waitFor();
    }),
  );

  it(
    'a #token= link signs in and leaves the address; a read token sees no upload, share, rename or delete',
    withScreenshots('auth-token-link', suite, async (pages) => {
      const page = await freshPage(pages, suite.stack.tokens.bob);
      await page.getByTestId('summary').waitFor();
      assert.equal(page.url(), `${suite.stack.url}/`);
      assert.equal(await page.evaluate(() => location.hash), '');
      assert.equal(await whoAmI(page), 'bob read');

      await row(page, REPORT).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Upload files' }).count(), 0);
      for (const action of ['Share', 'Rename', 'Delete']) {
        assert.equal(await row(page, REPORT).getByRole('button', { name: `${action} ${REPORT}` }).count(), 0, action);
      }
      assert.equal(await page.getByRole('checkbox').count(), 0, 'no selection without delete');
      assert.equal(await row(page, REPORT).getByRole('link', { name: `Download ${REPORT}` }).count(), 1);
    }),
  );

  it(
    'an admin sees every action; a share link made in the dialog downloads identical bytes without signing in, and refuses once used up',
    withScreenshots('auth-share', suite, async (pages) => {
      const page = await freshPage(pages, suite.stack.tokens.alice);
      await row(page, PHOTO).waitFor();
      await page.getByRole('button', { name: 'Upload files' }).waitFor();
      for (const action of ['Share', 'Rename', 'Delete']) {
        assert.equal(await row(page, PHOTO).getByRole('button', { name: `${action} ${PHOTO}` }).count(), 1, action);
      }

      await row(page, PHOTO).getByRole('button', { name: `Share ${PHOTO}` }).click();
      const dialog = page.getByRole('dialog', { name: `Share “${PHOTO}”` });
      await dialog.waitFor();
      await dialog.getByLabel('Maximum downloads').fill('0');
      await dialog.getByRole('button', { name: 'Create link' }).click();
      await dialog.getByRole('alert').filter({ hasText: 'at least 1' }).waitFor();
      await dialog.getByLabel('Link expires').selectOption({ label: '1 day' });
      await dialog.getByLabel('Maximum downloads').fill('1');
      await dialog.getByRole('button', { name: 'Create link' }).click();
      const urlField = dialog.getByLabel('Anyone with this link can download the file');
      await urlField.waitFor();
      const link = await urlField.inputValue();
      assert.match(link, new RegExp(`^${suite.stack.url}/s/`));
      await dialog.getByText('0 of 1 downloads').waitFor();
      await dialog.getByRole('button', { name: 'Close' }).click();

      // A browser of its own: no cookie, nobody signed in.
      const stranger = await launchBrowser();
      try {
        const publicPage = await stranger.context.newPage();
        publicPage.setDefaultTimeout(UI_TIMEOUT_MS);
        pages.push(publicPage);
        const asked: string[] = [];
        publicPage.on('request', (request) => asked.push(new URL(request.url()).pathname));
        publicPage.on('websocket', (socket) => asked.push(socket.url()));
        await publicPage.goto(link);
        assert.equal(await publicPage.getByTestId('shared-name').innerText(), PHOTO);
        assert.equal(await publicPage.getByTestId('shared-size').innerText(), '300 kB');
        const [download] = await Promise.all([publicPage.waitForEvent('download'), publicPage.getByRole('link', { name: 'Download' }).click()]);
        const saved = await download.path();
        assert.ok((await readFile(saved)).equals(PHOTO_BYTES), 'identical bytes');
        assert.ok(!asked.some((what) => what === ApiPath.session || what.includes(ApiPath.ws)), `no session or WebSocket: ${asked.join(' ')}`);
        assert.equal(await tokenField(publicPage).count(), 0, 'no sign-in');

        // Used up: the page says what the server says. The tor-server ends the link's idle
        // sessions once it is used up, so a reload may still catch a pooled one that shows the file.
        const refusal = await eventually(async () => {
          await publicPage.reload();
          const shown = publicPage.getByTestId('shared-name').or(publicPage.getByTestId('share-refusal'));
          await shown.waitFor();
          return (await shown.getAttribute('data-testid')) === 'share-refusal' && publicPage.getByTestId('share-refusal').innerText();
        }, 'the used-up link to be refused', UI_TIMEOUT_MS);
        // The tor-server's own words, every time (a connection it signed out is never reused).
        assert.equal(refusal, USED_UP);
        await publicPage.reload();
        assert.equal(await publicPage.getByTestId('share-refusal').innerText(), USED_UP);
      } finally {
        await stranger.close();
      }

      // The owner sees the download counted, and revokes the link.
      await row(page, PHOTO).getByRole('button', { name: `Share ${PHOTO}` }).click();
      await dialog.getByText('1 of 1 downloads').waitFor();
      const id = await dialog.locator('li[data-share-id]').first().getAttribute('data-share-id');
      await dialog.getByRole('button', { name: `Revoke link ${id} to ${PHOTO}` }).click();
      await dialog.locator(`li[data-share-id="${id}"]`).waitFor({ state: 'detached' });
    }),
  );

  it(
    'a write token shares but neither renames nor deletes; revoked while the page is open, it brings the sign-in back with the reason; signing in again keeps the page as it was',
    withScreenshots('auth-revoked', suite, async (pages) => {
      const page = await freshPage(pages, await suite.stack.addToken('dave', 'write'));
      await page.getByTestId('summary').waitFor();
      // Write access: upload and share, not rename or delete.
      await page.getByRole('button', { name: 'Upload files' }).waitFor();
      assert.equal(await row(page, REPORT).getByRole('button', { name: `Share ${REPORT}` }).count(), 1);
      assert.equal(await row(page, REPORT).getByRole('button', { name: `Rename ${REPORT}` }).count(), 0);
      assert.equal(await row(page, REPORT).getByRole('button', { name: `Delete ${REPORT}` }).count(), 0);
      await page.getByLabel('Search files').fill('report');
      await eventually(async () => assert.deepEqual(await listedNames(page), [REPORT]), 'the search to list it', UI_TIMEOUT_MS);

      await suite.stack.tokenAdmin('revoke', 'dave');
      const dialog = page.getByRole('dialog', { name: 'Sign in' });
      await dialog.waitFor();
      const reason = await dialog.getByRole('alert').innerText();
      assert.equal(reason, 'Invalid token', 'the tor-server\'s refusal of the revoked token, verbatim');
      assert.ok(await tokenField(page).evaluate((field) => field === document.activeElement), 'the token field has the focus');

      await signInWith(page, await suite.stack.addToken('dave-again', 'write'));
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await page.getByLabel('Search files').inputValue(), 'report');
      assert.deepEqual(await listedNames(page), [REPORT]);
      assert.equal(await whoAmI(page), 'dave-again write');
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the socket to be back', UI_TIMEOUT_MS);
    }),
  );

  it(
    'signing out with an upload still running asks first, and cancels it',
    withScreenshots('auth-sign-out-upload', suite, async (pages) => {
      const page = await freshPage(pages, suite.stack.tokens.alice);
      await page.getByTestId('summary').waitFor();
      // A frozen tor-server holds the upload at its name check: it stays running.
      suite.stack.freezeTorServer();
      try {
        await uploadWithChooser(page, [{ name: 'late.txt', mimeType: 'text/plain', buffer: Buffer.from('late\n') }]);
        await transfer(page, 'late.txt').waitFor();
        const asked: string[] = [];
        page.once('dialog', (dialog) => (asked.push(dialog.message()), void dialog.dismiss()));
        await page.getByRole('button', { name: 'Sign out' }).click();
        assert.deepEqual(asked, ['Sign out and stop the upload still running?']);
        assert.equal(await page.getByTestId('session-info').count(), 1, 'still signed in after Cancel');

        assert.match((await transfer(page, 'late.txt').getAttribute('data-status')) ?? '', /^(queued|checking)$/, 'still running');

        page.once('dialog', (dialog) => void dialog.accept());
        await page.getByRole('button', { name: 'Sign out' }).click();
        await tokenField(page).waitFor();
      } finally {
        suite.stack.thawTorServer();
      }
      // Signed in again once the server answers: the upload did not go on behind the sign-in.
      await signInWith(page, suite.stack.tokens.alice!);
      await row(page, REPORT).waitFor();
      assert.ok(!(await listedNames(page)).includes('late.txt'));
      assert.ok(!existsSync(path.join(suite.stack.dir, 'late.txt')));
    }),
  );
});

describe('failed sign-ins in the browser are limited', { skip: browserSkipReason() }, () => {
  // A stack of its own: the limit holds the address of every test that would follow.
  const suite = useSuite({ [REPORT]: 'x\n' }, { auth: true, tokens: { alice: 'admin' } });
  /** More than the tor-server's limit per minute, so the test ends if the limit never comes. */
  const MAX_TRIES = 30;

  it(
    "shows the server's refusal verbatim once there were too many, even for a good token",
    withScreenshots('auth-too-many', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await page.goto(suite.stack.url);
      const refusal = page.getByRole('alert');
      let shown = '';
      for (let tries = 1; tries <= MAX_TRIES && !shown.startsWith('Too many attempts'); tries += 1) {
        // Shaped like a token (the gateway refuses anything else without asking the tor-server).
        await signInWith(page, `tft_00000000_${randomBytes(32).toString('base64url')}`);
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
        await eventually(async () => (await page.getByRole('button', { name: 'Sign in' }).isEnabled()) && (await refusal.count()) > 0, 'the answer', UI_TIMEOUT_MS);
        shown = await refusal.innerText();
      }
      assert.match(shown, /^Too many attempts: retry in \d+ s$/);
      await signInWith(page, suite.stack.tokens.alice!);
      await eventually(async () => (await page.getByRole('button', { name: 'Sign in' }).isEnabled()) && /^Too many attempts: retry in \d+ s$/.test(await refusal.innerText()), 'the refusal of the good token', UI_TIMEOUT_MS);
      assert.equal(await page.getByTestId('summary').count(), 0);
    }),
  );
});
