import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MISSED_PINGS, PING_INTERVAL_MS } from '../../src/lib/keep-alive.js';
import { badge, listedNames, openApp } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

// Its own suite (and browser): the fake clock is installed for the whole browser context.
describe('WebSocket keep-alive', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'a.txt': 'a\n' });

  it(
    `replaces a socket after ${MAX_MISSED_PINGS} unanswered pings and catches up on the new one`,
    withScreenshots('keep-alive', suite, async (pages) => {
      const page = await suite.newPage();
      pages.push(page);
      // The page's timers run on a clock the test moves, so no test waits 45 s for real.
      await page.clock.install();
      const sent: Array<Array<string | undefined>> = [];
      let pongsDelivered = 0;
      await page.routeWebSocket(/\/api\/ws$/, (socket) => {
        const commands: Array<string | undefined> = [];
        sent.push(commands);
        const first = sent.length === 1;
        const gateway = socket.connectToServer();
        gateway.onMessage((message) => {
          // The first socket loses every pong, as a connection that died without a close does.
          const pong = (JSON.parse(String(message)) as { pong?: boolean }).pong === true;
          if (first && pong) return;
          socket.send(message);
          if (pong) pongsDelivered += 1;
        });
        socket.onMessage((message) => {
          commands.push((JSON.parse(String(message)) as { command?: string }).command);
          gateway.send(message);
        });
      });
      await openApp(page, suite.stack.url);
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the page to show it', UI_TIMEOUT_MS);

      for (let tick = 0; tick <= MAX_MISSED_PINGS && sent.length < 2; tick += 1) {
        await page.clock.runFor(PING_INTERVAL_MS);
        await eventually(() => assert.ok(sent[0]!.filter((command) => command === 'ping').length >= Math.min(tick + 1, MAX_MISSED_PINGS)), 'the page to show it', UI_TIMEOUT_MS);
      }
      await eventually(() => assert.equal(sent.length, 2, 'a second socket'), 'the page to show it', UI_TIMEOUT_MS);
      assert.equal(sent[0]!.filter((command) => command === 'ping').length, MAX_MISSED_PINGS);
      await eventually(() => assert.ok(sent[1]!.includes('since'), `the new socket catches up: ${sent[1]!.join(', ')}`), 'the page to show it', UI_TIMEOUT_MS);
      assert.ok(!sent[1]!.includes('show'), 'no full listing needed');
      await eventually(async () => assert.equal(await badge(page).getAttribute('data-phase'), 'online'), 'the page to show it', UI_TIMEOUT_MS);
      assert.deepEqual(await listedNames(page), ['a.txt']);

      // The new socket answers its pings: it stays. (One interval at a time: the fake clock
      // fires timers at once, while each pong takes a real round trip.)
      for (let tick = 1; tick <= MAX_MISSED_PINGS + 1; tick += 1) {
        await page.clock.runFor(PING_INTERVAL_MS);
        await eventually(() => assert.ok(pongsDelivered >= tick, `pong ${tick}`), 'the page to show it', UI_TIMEOUT_MS);
      }
      assert.equal(sent.length, 2, 'no further replacement');
    }),
  );
});
