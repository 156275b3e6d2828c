import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { finished } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ReceiveBuffer } from '../../src/client/receive-buffer.js';
import { LineReader } from '../../src/protocol/line-reader.js';
import { patternBytes } from '../helpers.js';

const STALE = 0xee;

/**
 * Feeds `chunks` the way a socket's onread does: each read lands in a ReceiveBuffer, and memory
 * the reader did not keep is overwritten at once (as the next read would), so any use of stale
 * bytes shows. Waits for `resume` whenever the reader pauses. Ends the reader after the last chunk.
 */
async function feedReads(reader: LineReader, chunks: Buffer[]): Promise<void> {
  const memory = new ReceiveBuffer();
  for (const chunk of chunks) {
    const target = memory.next();
    chunk.copy(target);
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const result = reader.feed(target.subarray(0, chunk.length), resume);
    if (result === 'reuse') target.fill(STALE, 0, chunk.length);
    memory.used(chunk.length, result !== 'reuse');
    if (result === 'pause') await resumed;
  }
  reader.end();
}

/** `data` cut into chunks of `size` bytes (the last one shorter). */
function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** A download's reply lines, `payload`, then one more line. */
function downloadWire(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`ok\nfound\n${payload.length}\n`), payload, Buffer.from('exit\n')]);
}

describe('LineReader fed from socket reads', () => {
  it('a raw sink gets exactly the transfer from reused read memory, and lines resume after it in the same read', async () => {
    const reader = new LineReader();
    const payload = patternBytes(300_000);
    const feeding = feedReads(reader, chunked(downloadWire(payload), 7001));
    assert.equal(await reader.nextLine(), 'ok');
    assert.equal(await reader.nextLine(), 'found');
    assert.equal(await reader.nextLine(), String(payload.length));
    const raw = reader.readBytes(payload.length);
    const received: Buffer[] = [];
    // The sink must be done with each chunk when it returns: it keeps copies.
    raw.sendTo((chunk) => received.push(Buffer.from(chunk)));
    await finished(raw);
    assert.deepEqual(Buffer.concat(received), payload);
    assert.equal(raw.bytesRead, payload.length);
    assert.equal(await reader.nextLine(), 'exit');
    assert.equal(await reader.nextLine(), null);
    await feeding;
  });

  it('a raw stream read the usual way gets intact bytes: memory handed to it is never reused', async () => {
    const reader = new LineReader();
    const payload = patternBytes(300_000, 7);
    const feeding = feedReads(reader, chunked(downloadWire(payload), 65_536));
    for (let i = 0; i < 3; i++) await reader.nextLine();
    assert.deepEqual(await buffer(reader.readBytes(payload.length)), payload);
    assert.equal(await reader.nextLine(), 'exit');
    await feeding;
  });

  it('feed goes on taking input while less than 64 KiB waits unread, so a last line and the end are still seen', async () => {
    const reader = new LineReader();
    assert.equal(
      reader.feed(Buffer.from('bye\n'), () => assert.fail('not paused, so never resumed')),
      'keep',
    );
    reader.end();
    assert.equal(await reader.nextLine(), 'bye');
    assert.equal(await reader.nextLine(), null);
  });

  it('feed pauses once more than 64 KiB waits unread, and calls resume once the reader takes input again', async () => {
    const reader = new LineReader();
    const line = 'x'.repeat(1000);
    let resumed = 0;
    assert.equal(
      reader.feed(Buffer.from(`${line}\n`.repeat(70)), () => resumed++),
      'pause',
    );
    for (let i = 0; i < 69; i++) assert.equal(await reader.nextLine(), line);
    assert.equal(resumed, 0, 'a line is still buffered: no more input wanted yet');
    assert.equal(await reader.nextLine(), line);
    assert.equal(resumed, 1);
  });

  it('bytes the stream took before sendTo reach the sink first, in order', async () => {
    const reader = new LineReader();
    const payload = patternBytes(200_000, 3);
    for (const chunk of chunked(payload, 10_000)) reader.write(chunk);
    reader.end();
    const raw = reader.readBytes(payload.length);
    // Let the stream fill its own buffer, as it does while its consumer opens a file.
    await tick();
    assert.ok(raw.readableLength > 0);
    const received: Buffer[] = [];
    raw.sendTo((chunk) => received.push(Buffer.from(chunk)));
    await finished(raw);
    assert.deepEqual(Buffer.concat(received), payload);
  });

  it('a sink that throws fails the stream with its error', async () => {
    const reader = new LineReader();
    const payload = patternBytes(100_000);
    // The feeding stays paused for good once the transfer failed: the client closes such a connection.
    void feedReads(reader, chunked(downloadWire(payload), 4096));
    for (let i = 0; i < 3; i++) await reader.nextLine();
    const raw = reader.readBytes(payload.length);
    raw.sendTo(() => {
      throw new Error('ENOSPC: no space left on device');
    });
    await assert.rejects(finished(raw), /ENOSPC/);
  });
});

describe('ReceiveBuffer', () => {
  it('puts the next read after kept bytes, and where a consumed read was', () => {
    const memory = new ReceiveBuffer();
    const first = memory.next();
    memory.used(1000, true);
    const second = memory.next();
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.byteOffset, first.byteOffset + 1000);
    memory.used(500, false);
    assert.equal(memory.next().byteOffset, second.byteOffset, 'not kept (consumed by a sink): the same memory again');
  });

  it('starts with 64 KiB blocks, and moves to 1 MiB blocks in new memory once a read fills all its room', () => {
    const memory = new ReceiveBuffer();
    const first = memory.next();
    assert.equal(first.length, 64 * 1024);
    memory.used(first.length, false);
    const large = memory.next();
    assert.notEqual(large.buffer, first.buffer);
    assert.equal(large.length, 1024 * 1024);
  });

  it('starts a new block when too little room is left for a read', () => {
    const memory = new ReceiveBuffer();
    const first = memory.next();
    memory.used(first.length - 1000, true);
    const next = memory.next();
    assert.notEqual(next.buffer, first.buffer);
    assert.equal(next.length, first.length);
  });
});
