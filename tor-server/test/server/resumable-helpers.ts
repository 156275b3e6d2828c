import assert from 'node:assert/strict';
import { Reply } from '../../src/protocol/constants.js';
import { missingRanges, type ByteRange } from '../../src/protocol/ranges.js';
import type { LineClient } from '../helpers.js';

/** `begin` over a raw connection: asserts `ok`, returns the id and the `have` line. */
export async function begin(client: LineClient, size: number, sha256: string | undefined, name: string): Promise<{ id: string; have: string }> {
  assert.equal(await client.request(`begin ${size} ${sha256 ?? '-'} ${name}`), Reply.OK);
  const [upload, have] = await client.lines(2);
  const match = /^upload ([a-z0-9]+)$/.exec(upload!);
  assert.ok(match, `expected "upload <id>", got ${upload}`);
  return { id: match[1]!, have: have! };
}

/** `put` of `data` at `offset`: the reply lines (`ok`, `stored`; or the one refusal line). */
export async function put(client: LineClient, id: string, offset: number, data: Buffer): Promise<string[]> {
  const first = await client.request(`put ${id} ${offset} ${data.length}`);
  if (first !== Reply.OK) return [first];
  client.send(data);
  return [first, await client.line()];
}

/** `status`: the `have` line. */
export async function status(client: LineClient, id: string): Promise<string> {
  assert.equal(await client.request(`status ${id}`), Reply.OK);
  return client.line();
}

/** One of the ranges an upload of `size` bytes still misses, picked with `next` (a seededRandom); undefined when none is. */
export function pickMissing(have: readonly ByteRange[], size: number, next: () => number): ByteRange | undefined {
  const missing = missingRanges(have, size);
  return missing[Math.floor(next() * missing.length)];
}
