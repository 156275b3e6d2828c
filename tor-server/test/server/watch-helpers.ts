import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { parseChangeLine, parseWatchingLine, type ChangeEvent } from '../../src/protocol/changes.js';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, WAIT_MS } from '../helpers.js';

/** A raw watcher: a LineClient that sent `watch [since]` and read `ok` and `watching <seq>`. */
export interface RawWatcher {
  client: LineClient;
  /** The seq from `watching <seq>`. */
  seq: number;
  /** Reads the next `count` event lines, parsed (each must parse). */
  events(count: number, ms?: number): Promise<ChangeEvent[]>;
}

/** Connects and starts a watch over raw TCP, checking the `ok` / `watching <seq>` start. */
export async function rawWatcher(t: TestContext, port: number, since?: number): Promise<RawWatcher> {
  const client = await LineClient.connect(t, port);
  assert.equal(await client.request(since === undefined ? 'watch' : `watch ${since}`), Reply.OK);
  const start = await client.line();
  const seq = parseWatchingLine(start);
  assert.ok(seq !== undefined, `expected "watching <seq>", got ${JSON.stringify(start)}`);
  return {
    client,
    seq,
    async events(count, ms = WAIT_MS) {
      const out: ChangeEvent[] = [];
      for (let i = 0; i < count; i++) {
        const line = await client.line(ms);
        const event = parseChangeLine(line, seq);
        assert.ok(event, `expected an event line, got ${JSON.stringify(line)}`);
        out.push(event);
      }
      return out;
    },
  };
}

/** An event without its seq and without the row's time, for comparing what happened regardless of numbering. */
export function describeEvent(event: ChangeEvent): string {
  switch (event.type) {
    case 'added':
      return `added ${event.entry.name} ${event.entry.size}`;
    case 'removed':
      return `removed ${event.name}`;
    case 'renamed':
      return `renamed ${event.from} -> ${event.to}`;
    case 'resync':
      return 'resync';
  }
}
