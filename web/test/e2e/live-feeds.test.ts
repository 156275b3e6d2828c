import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { TOKEN_FRAGMENT } from 'gateway/api';
import { listedNames } from './app-page.js';
import { eventually } from 'test-support';
import { browserSkipReason, useSuite, withScreenshots, UI_TIMEOUT_MS } from './harness.js';

// With --max-upstream 4 the gateway follows live changes for one signed-in user at a time.
describe('a gateway following as many users as it may', { skip: browserSkipReason() }, () => {
  const suite = useSuite({ 'notes.txt': 'hello\n' }, { auth: true, tokens: { alice: 'read', bob: 'read' }, gatewayArgs: ['--upstream-pool', '2', '--max-upstream', '4'] });

  /** A tab signed in with `token` through a `#token=` link (the browser's one cookie jar then holds it). */
  async function signedInPage(pages: Page[], token: string): Promise<Page> {
    await suite.browser.context.clearCookies();
    const page = await suite.newPage();
    pages.push(page);
    await page.goto(`${suite.stack.url}/#${TOKEN_FRAGMENT}=${encodeURIComponent(token)}`);
    await page.getByTestId('session-info').waitFor();
    await eventually(async () => assert.deepEqual(await listedNames(page), ['notes.txt']), 'the listing', UI_TIMEOUT_MS);
    return page;
  }

  it(
    'tells the user beyond the bound that the page does not update by itself, and lets them refresh',
    withScreenshots('live-feeds', suite, async (pages) => {
      const first = await signedInPage(pages, suite.stack.tokens.alice!);
      const second = await signedInPage(pages, suite.stack.tokens.bob!);
      const banner = second.getByTestId('no-live-changes');
      await banner.waitFor();
      assert.match(await banner.innerText(), /This page does not update by itself: live changes are unavailable: the gateway is following as many users as it may/);
      assert.equal(await first.getByTestId('no-live-changes').count(), 0, 'the first user has live changes');
      await banner.getByRole('button', { name: 'Refresh list' }).click();
      await eventually(async () => assert.deepEqual(await listedNames(second), ['notes.txt']), 'the listing again', UI_TIMEOUT_MS);
    }),
  );
});
