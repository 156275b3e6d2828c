import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { badge, listedNames, openApp } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, UI_TIMEOUT_MS, useSuite, withScreenshots } from './harness.js';

describe('connection loss and recovery', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'before.txt': 'here from the start\n' });

  it(
    'says when the tor-server is stopped, and recovers by itself once it is back on the same port',
    withScreenshots('tor-server-restart', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the badge to say online', UI_TIMEOUT_MS);

      await suite.stack.stopTorServer();
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'upstream-down'), 'the badge to say upstream-down', UI_TIMEOUT_MS);
      assert.match(await badge(page).innerText(), /tor-server unreachable/);

      // A file that appears while the page is cut off must show up once it recovers.
      await writeFile(path.join(suite.stack.dir, 'while-down.txt'), 'added while the server was down\n');
      await suite.stack.restartTorServer();
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the badge to say online again', 15_000);
      await eventually(async () => assert.deepEqual(await listedNames(page), ['before.txt', 'while-down.txt']), 'the listing after the outage', UI_TIMEOUT_MS);
      assert.equal(await page.getByRole('alert').count(), 0, 'no warning is left on screen');
    }),
  );

  it(
    'says when the gateway is gone, and reconnects by itself when it is back',
    withScreenshots('gateway-restart', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      await openApp(page, suite.stack.url);
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the badge to say online', UI_TIMEOUT_MS);

      await suite.stack.stopGateway();
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'offline'), 'the badge to say offline', UI_TIMEOUT_MS);
      await writeFile(path.join(suite.stack.dir, 'while-offline.txt'), 'added while the gateway was down\n');
      await suite.stack.restartGateway();
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the badge to say online again', 15_000);
      await eventually(async () => assert.ok((await listedNames(page)).includes('while-offline.txt')), 'the file added while offline listed', UI_TIMEOUT_MS);
    }),
  );

  it(
    'catches up when the tab becomes visible again: it asks the gateway for the changes since its last seq',
    withScreenshots('visibility-catch-up', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // What the page sends on its WebSocket, to see the catch-up request itself: a change made
      // while the tab was hidden reaches it live anyway, through the change feed.
      const sent: string[] = [];
      page.on('websocket', (socket) => socket.on('framesent', (frame) => sent.push(String(frame.payload))));
      const catchUps = () => sent.filter((text) => (JSON.parse(text) as { command?: string }).command === 'since').length;
      await openApp(page, suite.stack.url);
      await writeFile(path.join(suite.stack.dir, 'from-elsewhere.txt'), 'uploaded by another client\n');
      await eventually(async () => assert.ok((await listedNames(page)).includes('from-elsewhere.txt')), 'the file from elsewhere listed', UI_TIMEOUT_MS);
      const before = catchUps();
      // Headless tabs never really hide; the page reacts to the event, and its state reads "visible".
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await eventually(() => catchUps() > before, 'a since request after the tab became visible', UI_TIMEOUT_MS);
      assert.ok((await listedNames(page)).includes('from-elsewhere.txt'));
    }),
  );
});
