import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { WaitLine } from '../../src/lib/wait-line.js';

const busy = (detail: string) => new GatewayError('GW_ERR_UPSTREAM_BUSY', `busy: ${detail}`);

test('callers are served first come, first served; serve() with nobody waiting says so', async () => {
  const line = new WaitLine<string>({ timeoutMs: 10_000, maxLength: 10, noun: 'requests', busy });
  assert.equal(line.serve('nobody'), false);
  const order: string[] = [];
  const first = line.wait().then((value) => order.push(`first got ${value}`));
  const second = line.wait().then((value) => order.push(`second got ${value}`));
  assert.equal(line.length, 2);
  assert.equal(line.serve('a'), true);
  assert.equal(line.serve(Promise.resolve('b')), true);
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first got a', 'second got b']);
  assert.equal(line.length, 0);
});

test('a full line refuses at once; a wait too long is refused and leaves the line', async () => {
  const line = new WaitLine<void>({ timeoutMs: 50, maxLength: 1, noun: 'commands', busy });
  const waiting = line.wait();
  assert.equal(line.full, true);
  await assert.rejects(line.wait(), /busy: 1 commands are already waiting/);
  await assert.rejects(waiting, /busy: none became free within 0\.05 s/);
  assert.equal(line.length, 0);
  assert.equal(line.serve(), false);
});

test('a caller whose client went away leaves the line, and the next one is served instead', async () => {
  const line = new WaitLine<number>({ timeoutMs: 10_000, maxLength: 10, noun: 'requests', busy });
  const gone = new AbortController();
  const leaving = line.wait(gone.signal);
  const staying = line.wait();
  gone.abort();
  await assert.rejects(leaving, (error: unknown) => error instanceof GatewayError && error.code === 'GW_ERR_CLIENT_GONE');
  assert.equal(line.length, 1);
  line.serve(7);
  assert.equal(await staying, 7);
  const already = new AbortController();
  already.abort();
  await assert.rejects(line.wait(already.signal), (error: unknown) => error instanceof GatewayError && error.code === 'GW_ERR_CLIENT_GONE');
  assert.equal(line.length, 0);
});

test('rejectAll refuses everyone waiting', async () => {
  const line = new WaitLine<void>({ timeoutMs: 10_000, maxLength: 10, noun: 'requests', busy });
  const waiting = [line.wait(), line.wait(), line.wait()];
  line.rejectAll(new Error('shutting down'));
  for (const result of await Promise.allSettled(waiting)) assert.equal(result.status === 'rejected' && (result.reason as Error).message, 'shutting down');
  assert.equal(line.length, 0);
});
