import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NameLookup, NameStatus } from '../../src/lib/name-check.js';
import {
  HTTP_CONFLICT,
  HTTP_UNAUTHORIZED,
  SIGN_IN_NOTICE,
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
function harness(concurrency = 2, signedOut?: () => Promise<boolean>) {
  const calls: Call[] = [];
  let time = 0;
  const stored: string[] = [];
  let changes = 0;
  const queue = new UploadQueue<UploadSource>({
    concurrency,
    now: () => time,
    onChange: () => (changes += 1),
    onStored: (item) => stored.push(item.name),
    transport: recordingTransport(calls),
    signedOut,
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

  it("shows the transport's notice while it waits (offline), and clears it when it goes on or ends", async () => {
    const h = harness();
    const [id] = h.queue.add([file('a', 10)]);
    assert.equal(h.item(id!).notice, null);
    h.calls[0]!.job.onNotice?.('Offline: resumes when the network is back');
    assert.equal(h.item(id!).notice, 'Offline: resumes when the network is back');
    assert.equal(h.item(id!).status, 'uploading');
    h.calls[0]!.job.onNotice?.(null);
    assert.equal(h.item(id!).notice, null);
    h.calls[0]!.job.onNotice?.('Offline: resumes when the network is back');
    h.calls[0]!.finish({ ok: true });
    await settle();
    assert.equal(h.item(id!).notice, null);
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

  it("keeps the server's message on a refusal, and offers another name for a 409", async () => {
    const h = harness();
    const [tooBig, taken] = h.queue.add([file('huge.iso', 10), file('report.pdf', 10)]);
    h.calls[0]!.finish({ ok: false, status: 413, error: 'File too large: the limit is 1 GB' });
    h.calls[1]!.finish({ ok: false, status: HTTP_CONFLICT, error: 'File already exists: report.pdf' });
    await settle();
    assert.equal(h.item(tooBig!).status, 'failed');
    assert.equal(h.item(tooBig!).error, 'File too large: the limit is 1 GB');
    assert.equal(h.item(tooBig!).suggestion, null);
    assert.equal(h.item(taken!).status, 'conflict');
    assert.equal(h.item(taken!).error, 'File already exists: report.pdf');
    assert.equal(h.item(taken!).suggestion, 'report (1).pdf');
  });

  it('retries a conflicting upload under another name from zero', async () => {
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

/** A server's names as a lookup; `hold()` makes the next answers wait until `release()`. */
function serverNames(...names: string[]) {
  const stored = new Set(names);
  const asked: string[] = [];
  let gate: Promise<void> | null = null;
  let open = () => {};
  const lookup: NameLookup = async (name) => {
    asked.push(name);
    if (gate) await gate;
    return stored.has(name) ? 'taken' : 'free';
  };
  return {
    stored,
    asked,
    lookup,
    hold: () => (gate = new Promise((resolve) => (open = resolve))),
    release: () => {
      gate = null;
      open();
    },
  };
}

/** The harness with a name check in front of the transport. */
/** A transport that records each job and lets the test finish it by hand. */
function recordingTransport(calls: Call[]) {
  return (job: Call['job']) => {
    let finish!: (outcome: UploadOutcome) => void;
    const done = new Promise<UploadOutcome>((resolve) => (finish = resolve));
    const call: Call = { job, aborted: false, finish };
    calls.push(call);
    return { done, abort: () => (call.aborted = true) };
  };
}

function checkedHarness(lookup: NameLookup, knownNames: string[] = []) {
  const calls: Call[] = [];
  const queue = new UploadQueue<UploadSource>({
    lookup,
    knownNames: () => knownNames,
    transport: recordingTransport(calls),
  });
  return { queue, calls, item: (id: number): UploadItem => queue.items.find((item) => item.id === id)! };
}

describe('UploadQueue with a name check before sending', () => {
  it('sends nothing for a taken name and offers the next free one, checked with the server too', async () => {
    const server = serverNames('clip.mp4', 'clip (1).mp4');
    const h = checkedHarness(server.lookup);
    const [id] = h.queue.add([file('clip.mp4', 10)]);
    assert.equal(h.item(id!).status, 'checking');
    await settle();
    assert.equal(h.calls.length, 0, 'no upload request was made');
    assert.equal(h.item(id!).status, 'conflict');
    assert.equal(h.item(id!).error, null);
    assert.equal(h.item(id!).suggestion, 'clip (2).mp4');
    assert.deepEqual(server.asked, ['clip.mp4', 'clip (1).mp4', 'clip (2).mp4']);

    h.queue.retry(id!, 'clip (2).mp4');
    await settle();
    assert.deepEqual(h.calls.map((call) => call.job.name), ['clip (2).mp4']);
    assert.equal(h.item(id!).status, 'uploading');
  });

  it('uploads a free name after the check', async () => {
    const h = checkedHarness(serverNames('other.txt').lookup);
    const [id] = h.queue.add([file('new.txt', 10)]);
    await settle();
    assert.deepEqual(h.calls.map((call) => call.job.name), ['new.txt']);
    h.calls[0]!.finish({ ok: true });
    await settle();
    assert.equal(h.item(id!).status, 'done');
  });

  it('trusts the server over a stale listing, and the listing when the server cannot be asked', async () => {
    const stale = checkedHarness(serverNames().lookup, ['gone.txt']);
    stale.queue.add([file('gone.txt', 1)]);
    await settle();
    assert.deepEqual(stale.calls.map((call) => call.job.name), ['gone.txt'], 'deleted on the server: upload');

    const unreachable = checkedHarness(async () => 'unknown', ['listed.txt']);
    const [listed, unlisted] = unreachable.queue.add([file('listed.txt', 1), file('new.txt', 1)]);
    await settle();
    assert.equal(unreachable.item(listed!).status, 'conflict');
    assert.equal(unreachable.item(listed!).suggestion, 'listed (1).txt');
    assert.equal(unreachable.item(unlisted!).status, 'uploading', 'the upload itself will get the final word');
  });

  it('cancels a conflict or a check without sending anything', async () => {
    const server = serverNames('a.txt');
    const h = checkedHarness(server.lookup);
    const [conflict] = h.queue.add([file('a.txt', 1)]);
    await settle();
    h.queue.cancel(conflict!);
    assert.equal(h.item(conflict!).status, 'cancelled');

    server.hold();
    const [checking] = h.queue.add([file('b.txt', 1)]);
    h.queue.cancel(checking!);
    server.release();
    await settle();
    assert.equal(h.item(checking!).status, 'cancelled');
    assert.equal(h.calls.length, 0);
  });

  it('does not send two uploads of one name from the same page', async () => {
    const h = checkedHarness(serverNames().lookup);
    const [first, second] = h.queue.add([file('same.txt', 1), file('same.txt', 2)]);
    await settle();
    assert.deepEqual(h.calls.map((call) => call.job.name), ['same.txt']);
    assert.equal(h.item(first!).status, 'uploading');
    assert.equal(h.item(second!).status, 'conflict');
    assert.equal(h.item(second!).suggestion, 'same (1).txt');
  });

  it('a 409 from the upload itself (taken meanwhile) becomes the same offer, with the server message', async () => {
    const server = serverNames();
    const h = checkedHarness(server.lookup);
    const [id] = h.queue.add([file('race.txt', 1)]);
    await settle();
    server.stored.add('race.txt');
    h.calls[0]!.finish({ ok: false, status: HTTP_CONFLICT, error: 'File already exists: race.txt' });
    await settle();
    assert.equal(h.item(id!).status, 'conflict');
    assert.equal(h.item(id!).error, 'File already exists: race.txt');
    assert.equal(h.item(id!).suggestion, 'race (1).txt');
  });
});

describe('UploadQueue held for the sign-in', () => {
  const UNAUTHORIZED = { ok: false, status: HTTP_UNAUTHORIZED, error: 'Invalid token' } as const;

  /** A session check the test answers by hand, counting the times it is asked. */
  function sessionCheck() {
    const answers: ((signedOut: boolean) => void)[] = [];
    let asked = 0;
    return {
      asked: () => asked,
      answer: (signedOut: boolean) => answers.shift()!(signedOut),
      signedOut: () => ((asked += 1), new Promise<boolean>((resolve) => answers.push(resolve))),
    };
  }

  /** The upload of `call` is refused with 401, the sign-in turns out gone, and the user signs in again. */
  async function refusedThenSignedInAgain(h: ReturnType<typeof harness>, session: ReturnType<typeof sessionCheck>, call: number): Promise<void> {
    h.calls[call]!.finish(UNAUTHORIZED);
    await settle();
    session.answer(true);
    await settle();
    h.queue.hold(false);
  }

  it('starts nothing while held, saying why; released, starts up to the concurrency', () => {
    const h = harness(2);
    h.queue.hold(true);
    const ids = h.queue.add([file('a', 10), file('b', 10), file('c', 10)]);
    assert.equal(h.calls.length, 0);
    for (const id of ids) {
      assert.equal(h.item(id).status, 'queued');
      assert.equal(h.item(id).notice, SIGN_IN_NOTICE);
    }

    h.queue.hold(false);
    assert.deepEqual(h.calls.map((call) => call.job.name), ['a', 'b']);
    assert.equal(h.item(ids[2]!).status, 'queued');
    assert.equal(h.item(ids[2]!).notice, null);
  });

  it('leaves running uploads alone when held, and starts no next one when they end', async () => {
    const h = harness(1);
    const [a, b] = h.queue.add([file('a', 10), file('b', 10)]);
    h.queue.hold(true);
    assert.equal(h.item(b!).notice, SIGN_IN_NOTICE);
    h.calls[0]!.finish({ ok: true });
    await settle();
    assert.equal(h.item(a!).status, 'done');
    assert.equal(h.calls.length, 1);
    h.queue.hold(false);
    assert.deepEqual(h.calls.map((call) => call.job.name), ['a', 'b']);
  });

  it('sends an upload refused with 401 back to the queue when the sign-in is gone; it resumes after the next sign-in', async () => {
    const session = sessionCheck();
    const h = harness(1, session.signedOut);
    const [a, b] = h.queue.add([file('a', 100), file('b', 10)]);
    h.calls[0]!.job.onProgress(40);
    h.calls[0]!.finish(UNAUTHORIZED);
    await settle();
    assert.equal(session.asked(), 1);
    assert.equal(h.item(a!).status, 'queued');
    assert.equal(h.item(a!).notice, SIGN_IN_NOTICE);
    assert.equal(h.calls.length, 1, 'nothing starts while the session is checked');

    session.answer(true);
    await settle();
    assert.equal(h.item(a!).status, 'queued');
    assert.equal(h.item(b!).notice, SIGN_IN_NOTICE);
    assert.equal(h.calls.length, 1, 'held: nothing starts while signed out');

    h.queue.hold(false);
    assert.deepEqual(h.calls.map((call) => call.job.name), ['a', 'a']);
    assert.equal(h.item(a!).status, 'uploading');
    assert.equal(h.item(a!).error, null);
  });

  it('fails an upload refused with 401 again right after it was restarted, with the server words', async () => {
    const session = sessionCheck();
    const h = harness(1, session.signedOut);
    const [a] = h.queue.add([file('a', 100)]);
    h.calls[0]!.job.onProgress(40);
    await refusedThenSignedInAgain(h, session, 0);
    // The resumed upload learns where it stood, stores nothing more, and is refused again.
    h.calls[1]!.job.onProgress(40);
    h.calls[1]!.finish(UNAUTHORIZED);
    await settle();
    assert.equal(session.asked(), 1, 'no second round');
    assert.equal(h.item(a!).status, 'failed');
    assert.equal(h.item(a!).error, 'Invalid token');
  });

  it('sends it back again after a restart that stored more (the session ended a second time)', async () => {
    const session = sessionCheck();
    const h = harness(1, session.signedOut);
    const [a] = h.queue.add([file('a', 100)]);
    await refusedThenSignedInAgain(h, session, 0);
    h.calls[1]!.job.onProgress(60);
    h.calls[1]!.finish(UNAUTHORIZED);
    await settle();
    assert.equal(session.asked(), 2);
    assert.equal(h.item(a!).status, 'queued');
  });

  it('fails a 401 when the page is still signed in (the refusal was about something else)', async () => {
    const session = sessionCheck();
    const h = harness(1, session.signedOut);
    const [a, b] = h.queue.add([file('a', 100), file('b', 10)]);
    h.calls[0]!.finish(UNAUTHORIZED);
    await settle();
    session.answer(false);
    await settle();
    assert.equal(h.item(a!).status, 'failed');
    assert.equal(h.item(a!).error, 'Invalid token');
    assert.equal(h.item(b!).status, 'uploading', 'the next one starts');
  });

  it('fails 403 (not allowed) and 429 at once, without asking the session', async () => {
    const session = sessionCheck();
    const h = harness(2, session.signedOut);
    const [a, b] = h.queue.add([file('a', 10), file('b', 10)]);
    h.calls[0]!.finish({ ok: false, status: 403, error: 'Permission denied: read-only token' });
    h.calls[1]!.finish({ ok: false, status: 429, error: 'Too many attempts: retry in 30 s' });
    await settle();
    assert.equal(session.asked(), 0);
    assert.equal(h.item(a!).status, 'failed');
    assert.equal(h.item(a!).error, 'Permission denied: read-only token');
    assert.equal(h.item(b!).status, 'failed');
  });

  it('cancels an upload waiting for the sign-in by aborting what it had sent', async () => {
    const session = sessionCheck();
    const h = harness(1, session.signedOut);
    const [a] = h.queue.add([file('a', 100)]);
    h.calls[0]!.finish(UNAUTHORIZED);
    await settle();
    h.queue.cancel(a!);
    assert.equal(h.calls[0]!.aborted, true);
    session.answer(true);
    await settle();
    assert.equal(h.item(a!).status, 'cancelled');
  });

  it('holds an upload whose name check ends after the sign-in is gone, instead of sending it', async () => {
    let answer!: (status: NameStatus) => void;
    const h = checkedHarness(() => new Promise((resolve) => (answer = resolve)));
    const [id] = h.queue.add([file('a', 10)]);
    assert.equal(h.item(id!).status, 'checking');
    h.queue.hold(true);
    answer('free');
    await settle();
    assert.equal(h.calls.length, 0);
    assert.equal(h.item(id!).status, 'queued');
    assert.equal(h.item(id!).notice, SIGN_IN_NOTICE);
    h.queue.hold(false);
    assert.equal(h.calls.length, 0, 'checked again first');
    answer('free');
    await settle();
    assert.equal(h.calls.length, 1);
  });
});
