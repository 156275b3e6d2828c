import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { cutWhenIdle } from '../../../src/lib/tus/idle.js';

const IDLE_MS = 20;

describe('cutWhenIdle', () => {
  it('counts only the time spent waiting on the sender: a slow consumer is never taken for an idle sender', async () => {
    const source = new PassThrough();
    source.end(Buffer.from('ab'));
    let idle = 0;
    const seen: string[] = [];
    for await (const bytes of cutWhenIdle(source.iterator() as AsyncIterable<Buffer>, IDLE_MS, () => idle++)) {
      seen.push(bytes.toString());
      // The consumer (a put waiting for its fsync) takes far longer than the idle time.
      await sleep(IDLE_MS * 5);
    }
    assert.deepEqual(seen, ['ab']);
    assert.equal(idle, 0);
  });

  it('calls onIdle when the sender sends nothing more, and the iteration ends with the error it destroys the source with', async () => {
    const source = new PassThrough();
    source.write(Buffer.from('first'));
    const seen: string[] = [];
    const read = (async () => {
      for await (const bytes of cutWhenIdle(source.iterator() as AsyncIterable<Buffer>, IDLE_MS, () => source.destroy(new Error('idle')))) seen.push(bytes.toString());
    })();
    await assert.rejects(read, /idle/);
    assert.deepEqual(seen, ['first']);
  });
});
