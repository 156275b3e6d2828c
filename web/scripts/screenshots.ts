/**
 * Development aid: screenshots of a running app at desktop and phone widths, light and dark.
 * Usage: node --import tsx scripts/screenshots.ts http://127.0.0.1:8080 [out-dir]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { launchBrowser } from '../test/e2e/browser.js';

const url = process.argv[2] ?? 'http://127.0.0.1:8080';
const outDir = path.resolve(process.argv[3] ?? 'test-artifacts/screenshots');
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

await mkdir(outDir, { recursive: true });
for (const scheme of ['light', 'dark'] as const) {
  const browser = await launchBrowser({ colorScheme: scheme });
  try {
    const page = await browser.context.newPage();
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      await page.goto(url);
      await page.locator('[data-testid=summary]').waitFor({ timeout: 10_000 });
      const file = path.join(outDir, `${name}-${scheme}.png`);
      await page.screenshot({ path: file });
      console.log(file);
    }
  } finally {
    await browser.close();
  }
}
