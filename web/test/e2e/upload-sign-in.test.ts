import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { ApiPath, TOKEN_FRAGMENT, TUS_CHUNK_BYTES, TusHeader } from 'gateway/api';
import { eventually, sha256 } from 'test-support';
import { transfer, uploadWithChooser, type PageFile } from './app-page.js';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

/** A chunk and a half: the creation's POST stores the first chunk, a PATCH sends the rest. */
const BIG_BYTES = TUS_CHUNK_BYTES + TUS_CHUNK_BYTES / 2;
/** One request each. */
const SMALL_BYTES = 50_000;

/**
 * The files a test picks, named after it: the big one first, then three small ones. Two run at
 * once: the big one and the first small one; the other two wait their turn.
 */
function filesOf(test: string): PageFile[] {
  const file = (name: string, bytes: number) => ({ name: `${test}-${name}`, mimeType: 'application/octet-stream', buffer: randomBytes(bytes) });
  return [file('big.bin', BIG_BYTES), file('b.bin', SMALL_BYTES), file('c.bin', SMALL_BYTES), file('d.bin', SMALL_BYTES)];
}

/** The tus requests the page sends, in order: `POST name`, `HEAD id`, `PATCH id offset`. */
interface TusLog {
  readonly seen: string[];
  /** The tus requests held so far (the big one's PATCH, the first small one's POST), in order. */
  readonly held: Route[];
  /** Lets the held requests and every later one through. */
  release(): Promise<void>;
}

/** The name in a tus creation's Upload-Metadata (`filename <base64>,…`). */
function metadataName(metadata: string | undefined): string {
  const encoded = metadata?.split(',').find((pair) => pair.startsWith('filename '))?.slice('filename '.length);
  return encoded === undefined ? '?' : Buffer.from(encoded, 'base64').toString();
}

/**
 * Logs the page's tus requests, and holds all of them but the creation of `pass` (which
 * stores its first chunk) until released: two uploads stay running, the others queued.
 */
async function logAndHoldUploads(page: Page, pass: string): Promise<TusLog> {
  const pattern = `**${ApiPath.uploads}*`;
  const seen: string[] = [];
  const held: Route[] = [];
  let holding = true;
  await page.route(pattern, async (route) => {
    const request = route.request();
    const id = new URL(request.url()).pathname.slice(ApiPath.uploads.length);
    const headers = request.headers();
    const seenAs =
      request.method() === 'POST'
        ? `POST ${metadataName(headers[TusHeader.uploadMetadata])}`
        : [request.method(), id, headers[TusHeader.uploadOffset]].filter(Boolean).join(' ');
    seen.push(seenAs);
    if (holding && seenAs !== `POST ${pass}`) held.push(route);
    else await route.continue();
  });
  return {
    seen,
    held,
    async release() {
      holding = false;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

describe('uploads wait for the sign-in when the session ends', { skip: browserSkipReason() }, () => {
  const suite = useSuite({}, { auth: true });

  /** Opens the app signed in with `token`, picks `files`, and waits until the big one's first chunk is stored and the rest held or queued. */
  async function uploadsUnderWay(pages: Page[], token: string, files: PageFile[]) {
    await suite.browser.context.clearCookies();
    const page = await suite.newPage();
    pages.push(page);
    await page.goto(`${suite.stack.url}/#${TOKEN_FRAGMENT}=${encodeURIComponent(token)}`);
    await page.getByTestId('summary').waitFor();
    const log = await logAndHoldUploads(page, files[0]!.name);
    await uploadWithChooser(page, files);
    await eventually(() => assert.equal(log.held.length, 2, `the big one's PATCH and the first small one's POST held: ${log.seen.join(', ')}`), 'two uploads running', UI_TIMEOUT_MS);
    for (const file of files.slice(2)) assert.equal(await transfer(page, file.name).getAttribute('data-status'), 'queued');
    return { page, log };
  }

  /** The sign-in is back; nothing failed, nothing new was created, every upload waits for the sign-in. */
  async function assertWaiting(page: Page, log: TusLog, files: PageFile[]): Promise<void> {
    const sentBefore = log.seen.length;
    // The held requests go on now, and are refused for the session that ended.
    await log.release();
    await page.getByRole('dialog', { name: 'Sign in' }).waitFor();
    await eventually(
      async () => {
        for (const file of files) {
          const item = transfer(page, file.name);
          assert.equal(await item.getAttribute('data-status'), 'queued', `${file.name} waits`);
          assert.match(await item.innerText(), /Waits for the sign-in/);
        }
      },
      'every upload to wait for the sign-in',
      UI_TIMEOUT_MS,
    );
    assert.equal(await page.locator('li[data-status="failed"]').count(), 0, 'nothing failed');
    assert.deepEqual(
      log.seen.slice(sentBefore).filter((request) => request.startsWith('POST')),
      [],
      `no upload created while signed out: ${log.seen.join(', ')}`,
    );
  }

  async function assertAllStored(page: Page, files: PageFile[]): Promise<void> {
    for (const file of files) {
      await eventually(async () => assert.equal(await transfer(page, file.name).getAttribute('data-status'), 'done'), `${file.name} uploaded`, UI_TIMEOUT_MS);
      assert.equal(sha256(await readFile(path.join(suite.stack.dir, file.name))), sha256(file.buffer), `${file.name} is stored byte for byte`);
    }
  }

  it(
    'signed out elsewhere: the uploads wait behind the sign-in, and go on after signing in again, the interrupted one from where it stood',
    withScreenshots('upload-sign-in-again', suite, async (pages) => {
      const files = filesOf('again');
      const [big] = files;
      const token = await suite.stack.addToken('frank', 'write');
      const { page, log } = await uploadsUnderWay(pages, token, files);
      // What signing out in another tab does to this one: the browser holds no session cookie any more.
      await suite.browser.context.clearCookies();
      await assertWaiting(page, log, files);

      const signedIn = log.seen.length;
      await page.getByLabel('Access token').fill(token);
      await page.getByLabel('Access token').press('Enter');
      await assertAllStored(page, files);
      const bigId = log.seen.find((request) => request.startsWith('PATCH'))!.split(' ')[1]!;
      const afterSignIn = log.seen.slice(signedIn).filter((request) => request.includes(bigId));
      assert.deepEqual(afterSignIn, [`HEAD ${bigId}`, `PATCH ${bigId} ${TUS_CHUNK_BYTES}`], `the big one resumed where it stood: ${log.seen.join(', ')}`);
      assert.equal(log.seen.filter((request) => request === `POST ${big!.name}`).length, 1, `the big one created once: ${log.seen.join(', ')}`);
    }),
  );

  it(
    'revoked: the sign-in comes back, nothing fails and nothing new starts; another token uploads them all',
    withScreenshots('upload-sign-in-revoked', suite, async (pages) => {
      const files = filesOf('revoked');
      const { page, log } = await uploadsUnderWay(pages, await suite.stack.addToken('grace', 'write'), files);
      await suite.stack.tokenAdmin('revoke', 'grace');
      // The tor-server ends the token's sessions (the page's socket too): the sign-in is back before the held requests go on.
      await page.getByRole('dialog', { name: 'Sign in' }).waitFor();
      await assertWaiting(page, log, files);

      await page.getByLabel('Access token').fill(await suite.stack.addToken('grace-again', 'write'));
      await page.getByLabel('Access token').press('Enter');
      // Its partial upload belongs to the revoked token: the big one starts again under the new one.
      await assertAllStored(page, files);
    }),
  );
});
