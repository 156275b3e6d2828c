import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { countListings, listedNames, openApp, row } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';
import { tftcpCommand, torClientUpload } from './tftcp.js';

/**
 * Changes made outside the page (tor-client, a raw TFTCP client, the operator's disk) show up
 * in an open page by themselves: pushed by the gateway's change feed and patched into the
 * list, with no reload and no new listing. (How fast is for `npm run bench`; these tests only
 * wait within their bound.)
 */
describe('live updates from other clients', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'keep.txt': 'stays\n', 'old name.txt': 'renamed by nc\n', 'doomed.txt': 'deleted by nc\n' }, { torServerArgs: ['--open-access', 'admin'] });
  let scratch: string;
  before(async () => (scratch = await mkdtemp(path.join(tmpdir(), 'tft-web-live-'))));
  after(() => rm(scratch, { recursive: true, force: true }));

  /** Opens the app and starts counting the listings it asks for after the first. */
  async function openWatched(page: Page): Promise<{ readonly count: number }> {
    const listings = countListings(page);
    await openApp(page, suite.stack.url);
    await eventually(() => assert.equal(listings.count, 1, 'the first listing'), 'the page to show it', UI_TIMEOUT_MS);
    return listings;
  }

  it(
    'shows a tor-client upload, an nc delete and rename, and a file copied into the folder, each highlighted, with no reload',
    withScreenshots('live-updates', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const listings = await openWatched(page);
      let navigations = 0;
      page.on('framenavigated', () => (navigations += 1));

      const local = path.join(scratch, 'from tor-client.txt');
      await writeFile(local, 'uploaded with the CLI\n');
      await torClientUpload(suite.stack.torPort, local);
      await eventually(async () => assert.ok((await listedNames(page)).includes('from tor-client.txt')), 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(await row(page, 'from tor-client.txt').getAttribute('data-highlight'), 'added');

      assert.deepEqual(await tftcpCommand(suite.stack.torPort, 'delete doomed.txt'), ['ok', 'deleted']);
      await eventually(async () => assert.ok(!(await listedNames(page)).includes('doomed.txt')), 'the page to show it', UI_TIMEOUT_MS);

      assert.deepEqual(await tftcpCommand(suite.stack.torPort, 'rename old name.txt\tnew name.txt'), ['ok', 'renamed']);
      await eventually(async () => {
        const names = await listedNames(page);
        assert.ok(names.includes('new name.txt') && !names.includes('old name.txt'), names.join(', '));
      }, 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(await row(page, 'new name.txt').getAttribute('data-highlight'), 'renamed');

      await writeFile(path.join(suite.stack.dir, 'copied in.txt'), 'put there by the operator\n');
      await eventually(async () => assert.ok((await listedNames(page)).includes('copied in.txt')), 'the page to show it', UI_TIMEOUT_MS);

      assert.deepEqual((await listedNames(page)).sort(), ['copied in.txt', 'from tor-client.txt', 'keep.txt', 'new name.txt']);
      assert.equal(listings.count, 1, 'every change was patched in: no listing after the first');
      assert.equal(navigations, 0, 'no reload');
      assert.match(await page.getByTestId('summary').innerText(), /^4 files/);
    }),
  );

  it(
    'keeps search results correct: a change shows only when its name matches the search',
    withScreenshots('live-updates-search', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      await page.getByRole('searchbox', { name: 'Search files' }).fill('report');
      await eventually(async () => assert.deepEqual(await listedNames(page), []), 'the page to show it', UI_TIMEOUT_MS);
      await page.getByText('No files match “report”').waitFor();

      await writeFile(path.join(scratch, 'unrelated.txt'), 'x');
      await torClientUpload(suite.stack.torPort, path.join(scratch, 'unrelated.txt'));
      await writeFile(path.join(scratch, 'Report 2026.txt'), 'y');
      await torClientUpload(suite.stack.torPort, path.join(scratch, 'Report 2026.txt'));
      await eventually(async () => assert.deepEqual(await listedNames(page), ['Report 2026.txt']), 'the page to show it', UI_TIMEOUT_MS);

      // Renamed out of the search: it goes; renamed into it: it comes.
      assert.deepEqual(await tftcpCommand(suite.stack.torPort, 'rename Report 2026.txt\tsummary 2026.txt'), ['ok', 'renamed']);
      await eventually(async () => assert.deepEqual(await listedNames(page), []), 'the page to show it', UI_TIMEOUT_MS);
      assert.deepEqual(await tftcpCommand(suite.stack.torPort, 'rename unrelated.txt\treport draft.txt'), ['ok', 'renamed']);
      await eventually(async () => assert.deepEqual(await listedNames(page), ['report draft.txt']), 'the page to show it', UI_TIMEOUT_MS);
    }),
  );

  it(
    'catches up on what changed while its socket was cut, without a full listing',
    withScreenshots('live-updates-reconnect', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      const sent: string[] = [];
      page.on('websocket', (socket) =>
        socket.on('framesent', ({ payload }) => typeof payload === 'string' && sent.push(String((JSON.parse(payload) as { command?: string }).command))),
      );
      // Between the page and the gateway, so the test can cut the page's socket alone.
      let cut: (() => void) | undefined;
      await page.routeWebSocket(/\/api\/ws$/, (socket) => {
        const gateway = socket.connectToServer();
        cut = () => void socket.close({ code: 4000, reason: 'cut by the test' });
        gateway.onMessage((message) => socket.send(message));
        socket.onMessage((message) => gateway.send(message));
      });
      await openApp(page, suite.stack.url);
      await eventually(() => assert.ok(cut, 'the socket is routed'), 'the page to show it', UI_TIMEOUT_MS);
      cut!();
      await writeFile(path.join(suite.stack.dir, 'while cut.txt'), 'written while the page was away\n');
      // The folder change reaches the gateway's feed before the page is back (or it is caught up anyway).
      await eventually(async () => assert.ok((await listedNames(page)).includes('while cut.txt')), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(sent.includes('since'), `the page asked for what it missed: ${sent.join(', ')}`);
      assert.equal(sent.filter((command) => command === 'show').length, 1, `one listing in all: ${sent.join(', ')}`);
    }),
  );
});
