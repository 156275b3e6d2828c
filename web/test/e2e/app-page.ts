import type { Locator, Page } from 'playwright-core';

/** A file as the browser tests hand it to the page. */
export interface PageFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** Opens the app and waits for the first listing. */
export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('summary').waitFor();
}

/** The file names listed, top to bottom. */
export function listedNames(page: Page): Promise<string[]> {
  return page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name') ?? ''));
}

/** A CSS attribute-selector string literal for any text. */
function attr(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The row of one file. */
export function row(page: Page, name: string): Locator {
  return page.locator(`tbody tr[data-name=${attr(name)}]`);
}

/** The transfer-panel entry of one upload. */
export function transfer(page: Page, name: string): Locator {
  return page.locator(`li[data-name=${attr(name)}]`);
}

/** The connection badge. */
export function badge(page: Page): Locator {
  return page.getByRole('status').filter({ has: page.locator('.dot') });
}

/** Uploads through the "Upload files" button and the browser's file chooser. */
export async function uploadWithChooser(page: Page, files: PageFile[]): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Upload files' }).click()]);
  await chooser.setFiles(files);
}

/** Drops files on the page the way a drag from the desktop ends: a drop event carrying a DataTransfer. */
export async function dropFiles(page: Page, files: PageFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const file of list) transfer.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: file.mimeType }));
    return transfer;
  }, files.map((file) => ({ name: file.name, mimeType: file.mimeType, bytes: [...file.buffer] })));
  await page.dispatchEvent('main', 'dragenter', { dataTransfer });
  await page.getByText('Drop files to upload').waitFor();
  await page.dispatchEvent('main', 'drop', { dataTransfer });
  await dataTransfer.dispose();
}

/** Counts the listings (`show` and `search` requests) the page sends from now on, over any of its sockets. */
export function countListings(page: Page): { readonly count: number } {
  const counter = { count: 0 };
  page.on('websocket', (socket) =>
    socket.on('framesent', ({ payload }) => {
      if (typeof payload !== 'string') return;
      const command = (JSON.parse(payload) as { command?: string }).command;
      if (command === 'show' || command === 'search') counter.count += 1;
    }),
  );
  return counter;
}
