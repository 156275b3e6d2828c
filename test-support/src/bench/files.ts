import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';

const BLOCK_BYTES = 1024 * 1024;

/** Writes `size` bytes that neither compress nor dedup, and syncs them to disk so later timings do not pay for the write-back. */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  const handle = await fs.open(file, 'w');
  // Random but cheap: one random MiB, varied per block.
  const block = randomBytes(BLOCK_BYTES);
  try {
    for (let written = 0, i = 0; written < size; i++) {
      block.writeUInt32LE(i, 0);
      const length = Math.min(block.length, size - written);
      await handle.write(block, 0, length);
      written += length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
