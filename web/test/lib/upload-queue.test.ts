import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HTTP_CONFLICT,
  UploadQueue,
  type UploadItem,
  type UploadJob,
  type UploadOutcome,
  type UploadSource,
} from '../../src/lib/upload-queue.js';

interface Call {
  job: UploadJob<UploadSource>;
  aborted: boolean;
  finish(outcome: UploadOutcome): void;
}

/** A transport the test drives by hand: each upload waits until the test finishes it. */
function harness(concurrency = 2) {
  const calls: Call[] = [];
  let time = 0;
  const stored: string[] = [];
  let changes = 0;
  const queue = new UploadQueue<UploadSource>({
    concurrency,
    now: () => time,
    onChange: () => (changes += 1),
    onStored: (item) => stored.push(item.name),
    transport: (job) => {
      let finish!: (outcome: UploadOutcome) => void;
      const done = new Promise<UploadOutcome>((resolve) => (finish = resolve));
      const call: Call = { job, aborted: false, finish };
      calls.push(call);
      return { done, abort: () => (call.aborted = true) };
    },
  });
  return {
    queue,
    calls,
    stored,
    changes: () => changes,
    advance: (ms: number) => (time += ms),
    item: (id: number): UploadItem => queue.items.find((item) => item.id === id)!,
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const file = (name: string, size: number): UploadSource => ({ name, size });

describe('UploadQueue', () => {
  it('runs at most `concurrency` uploads and starts the next when one ends', async () => {
    const h = harness(2);
    const ids = h.queue.add([file('a', 10), file('b', 10), file('c', 10)]);
    assert.deepEqual(h.calls.map((call) => call.job.name), ['a', 'b']);
    assert.equal(h.item(ids[2]!).status, 'queued');

    h.calls[0]!.finish({ ok: true });
    await settle();
    assert.equal(h.item(ids[0]!).status, 'done');
    assert.deepEqual(h.calls.map((call) => call.job.name), ['a', 'b', 'c']);
    assert.deepEqual(h.stored, ['a']);
  });

  it('reports progress with a rate and an ETA, and 100% when stored', async () => {
    const h = harness();
    const [id] = h.queue.add([file('big.bin', 4_000_000)]);
    h.advance(1000);
    h.calls[0]!.job.onProgress(1_000_000);
    const during = h.item(id!);
    assert.equal(during.status, 'uploading');
    assert.equal(during.loaded, 1_000_000);
    assert.equal(during.rate, 1_000_000);
    assert.equal(during.eta, 3);

    h.calls[0]!.finish({ ok: true });
    await settle();
    const after = h.item(id!);
    assert.equal(after.status, 'done');
    assert.equal(after.loaded, after.total);
    assert.ok(h.changes() >= 4);
  });

  it('cancels a running upload by aborting it, and ignores its late answer', async () => {
    const h = harness(1);
    const [first, second] = h.queue.add([file('a', 10), file('b', 10)]);
    h.queue.cancel(first!);
    assert.equal(h.calls[0]!.aborted, true);
    assert.equal(h.item(first!).status, 'cancelled');
    assert.equal(h.calls[1]!.job.name, 'b', 'the next one starts at once');

    h.calls[0]!.finish({ ok: false, status: 0, error: 'Cancelled' });
    await settle();
    assert.equal(h.item(first!).status, 'cancelled');
    assert.equal(h.item(second!).status, 'uploading');
  });

  it('cancels a queued upload without ever sending it', () => {
    const h = harness(1);
    const [, queued] = h.queue.add([file('a', 10), file('b', 10)]);
    h.queue.cancel(queued!);
    assert.equal(h.item(queued!).status, 'cancelled');
    assert.equal(h.calls.length, 1);
  });

  it("keeps the server's message on a refusal and flags a name conflict", async () => {
    const h = harness();
    const [tooBig, taken] = h.queue.add([file('huge.iso', 10), file('report.pdf', 10)]);
    h.calls[0]!.finish({ ok: false, status: 413, error: 'File too large: the limit is 1 GB' });
    h.calls[1]!.finish({ ok: false, status: HTTP_CONFLICT, error: 'File already exists: report.pdf' });
    await settle();
    assert.equal(h.item(tooBig!).error, 'File too large: the limit is 1 GB');
    assert.equal(h.item(tooBig!).conflict, false);
    assert.equal(h.item(taken!).status, 'failed');
    assert.equal(h.item(taken!).error, 'File already exists: report.pdf');
    assert.equal(h.item(taken!).conflict, true);
  });

  it('retries a failed upload under another name from zero', async () => {
    const h = harness();
    const [id] = h.queue.add([file('report.pdf', 10)]);
    h.calls[0]!.job.onProgress(10);
    h.calls[0]!.finish({ ok: false, status: HTTP_CONFLICT, error: 'File already exists: report.pdf' });
    await settle();

    h.queue.retry(id!, 'report (1).pdf');
    assert.equal(h.calls[1]!.job.name, 'report (1).pdf');
    assert.equal(h.item(id!).loaded, 0);
    assert.equal(h.item(id!).error, null);
    h.calls[1]!.finish({ ok: true });
    await settle();
    assert.deepEqual(h.stored, ['report (1).pdf']);
  });

  it('turns a transport that throws into a failure with its message', async () => {
    const queue = new UploadQueue<UploadSource>({
      transport: () => ({ done: Promise.reject(new Error('socket hang up')), abort: () => {} }),
    });
    const [id] = queue.add([file('a', 1)]);
    await settle();
    assert.equal(queue.items[0]!.id, id);
    assert.equal(queue.items[0]!.status, 'failed');
    assert.match(queue.items[0]!.error ?? '', /socket hang up/);
  });

  it('dismisses and clears only what has finished', async () => {
    const h = harness(1);
    const [, running, cancelled] = h.queue.add([file('a', 1), file('b', 1), file('c', 1)]);
    h.calls[0]!.finish({ ok: true });
    await settle();
    h.queue.cancel(cancelled!);
    h.queue.dismiss(running!); // still running: stays
    h.queue.clearFinished();
    assert.deepEqual(h.queue.items.map((item) => item.id), [running]);
  });
});
