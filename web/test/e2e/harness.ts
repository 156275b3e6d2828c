import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumAvailable, CHROMIUM_PATH, launchBrowser, type LaunchedBrowser } from './browser.js';
import { startStack, type Stack, type StackOptions } from './stack.js';

/** Where failing browser tests leave a screenshot (gitignored). */
export const ARTIFACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');

/** Every wait in the browser tests is bounded by this. */
export const UI_TIMEOUT_MS = 20_000;

/** Why browser tests are skipped here, or false when they can run. */
export function browserSkipReason(): string | false {
  return chromiumAvailable() ? false : `no Chromium at ${CHROMIUM_PATH}`;
}

export interface Suite {
  readonly stack: Stack;
  readonly browser: LaunchedBrowser;
  /** A new tab, closed after the suite; its failures get screenshots. */
  newPage(): Promise<Page>;
}

/** Starts a stack seeded with `files` and one browser for the tests of a describe block. */
export function useSuite(files: Record<string, Buffer | string>, options: StackOptions = {}): Suite {
  let stack: Stack | undefined;
  let browser: LaunchedBrowser | undefined;
  before(async () => {
    stack = await startStack(files, options);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });
  return {
    get stack() {
      if (!stack) throw new Error('the stack did not start');
      return stack;
    },
    get browser() {
      if (!browser) throw new Error('the browser did not start');
      return browser;
    },
    async newPage() {
      const page = await this.browser.context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      return page;
    },
  };
}

/**
 * Runs a browser test body; when it fails, saves a screenshot of each page to test-artifacts/
 * and adds the servers' logs to the error.
 */
export function withScreenshots(name: string, suite: Suite, body: (pages: Page[]) => Promise<void>): () => Promise<void> {
  return async () => {
    const pages: Page[] = [];
    try {
      await body(pages);
    } catch (error) {
      await mkdir(ARTIFACTS_DIR, { recursive: true });
      const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      for (const [index, page] of pages.entries()) {
        const file = path.join(ARTIFACTS_DIR, `${slug}-${index + 1}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => {});
        console.error(`screenshot saved: ${file}`);
      }
      if (error instanceof Error) error.message += `\n\nserver logs:\n${suite.stack.logs()}`;
      throw error;
    } finally {
      for (const page of pages) await page.close().catch(() => {});
    }
  };
}
