import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { within } from 'test-support';
import { MAX_LINE_BYTES } from '../../src/protocol/constants.js';
import { INVALID_LINE, LineReader, LineTooLongError, TruncatedError } from '../../src/protocol/line-reader.js';
import { patternBytes } from '../helpers.js';

/** Writes the pieces one write each, then ends the reader. */
function feed(reader: LineReader, ...pieces: (string | Buffer)[]): void {
  for (const piece of pieces) reader.write(typeof piece === 'string' ? Buffer.from(piece) : piece);
  reader.end();
}

/** Splits bytes into one-byte chunks, the worst case a TCP stream can produce. */
function byteByByte(data: string | Buffer): Buffer[] {
  return [...Buffer.from(data)].map((b) => Buffer.from([b]));
}

async function allLines(reader: LineReader): Promise<(string | typeof INVALID_LINE)[]> {
  const out: (string | typeof INVALID_LINE)[] = [];
  for (let line = await reader.nextLine(); line !== null; line = await reader.nextLine()) out.push(line);
  return out;
}

describe('LineReader lines', () => {
  it('splits LF-terminated lines', async () => {
    const reader = new LineReader();
    feed(reader, 'show\nsearch a b\n');
    assert.deepEqual(await allLines(reader), ['show', 'search a b']);
  });

  it('strips the CR of CRLF but keeps a CR elsewhere in the line', async () => {
    const reader = new LineReader();
    feed(reader, 'show\r\nsearch a\rb\r\n\r\n');
    assert.deepEqual(await allLines(reader), ['show', 'search a\rb', '']);
  });

  it('joins a line split across chunks byte by byte, including a multi-byte character', async () => {
    const reader = new LineReader();
    feed(reader, ...byteByByte('download café été.txt\r\nexit\n'));
    assert.deepEqual(await allLines(reader), ['download café été.txt', 'exit']);
  });

  it('hands out pipelined commands from one chunk one at a time', async () => {
    const reader = new LineReader();
    feed(reader, 'show\nshow\nexit\n');
    assert.equal(await reader.nextLine(), 'show');
    assert.equal(await reader.nextLine(), 'show');
    assert.equal(await reader.nextLine(), 'exit');
    assert.equal(await reader.nextLine(), null);
  });

  it('drops a last line without LF at the end of input', async () => {
    const reader = new LineReader();
    feed(reader, 'show\nexi');
    assert.deepEqual(await allLines(reader), ['show']);
  });

  it('returns INVALID_LINE for bytes that are not UTF-8, and keeps going', async () => {
    const reader = new LineReader();
    feed(reader, Buffer.from([0x73, 0xff, 0xfe, 0x0a]), Buffer.from([0xc3, 0x0a]), 'show\n');
    assert.deepEqual(await allLines(reader), [INVALID_LINE, INVALID_LINE, 'show']);
  });

  it('refuses a second nextLine() while one is pending', async () => {
    const reader = new LineReader();
    const first = reader.nextLine();
    await assert.rejects(reader.nextLine(), /busy/);
    feed(reader, 'show\n');
    assert.equal(await first, 'show');
  });
});

describe('LineReader line limit', () => {
  const exactly = 'a'.repeat(MAX_LINE_BYTES);

  it(`accepts a line of exactly ${MAX_LINE_BYTES} bytes, with LF or CRLF`, async () => {
    const reader = new LineReader();
    feed(reader, `${exactly}\n${exactly}\r\n`);
    assert.deepEqual(await allLines(reader), [exactly, exactly]);
  });

  it('counts bytes, not characters', async () => {
    const reader = new LineReader();
    const euros = '€'.repeat(Math.ceil((MAX_LINE_BYTES + 1) / 3)); // 3 bytes each: over the limit in bytes, under it in characters
    feed(reader, `${euros}\n`);
    await assert.rejects(reader.nextLine(), LineTooLongError);
  });

  it(`rejects a line of ${MAX_LINE_BYTES + 1} bytes`, async () => {
    const reader = new LineReader();
    feed(reader, `${exactly}a\n`);
    await assert.rejects(reader.nextLine(), LineTooLongError);
  });

  it('rejects an overlong line before its LF arrives, when the chunks come byte by byte', async () => {
    const reader = new LineReader();
    // No end(): the reader must give up on its own, not wait for an LF or the end of input.
    for (const chunk of byteByByte(`${exactly}aa`)) reader.write(chunk);
    await assert.rejects(within(reader.nextLine()), LineTooLongError);
  });

  it('applies a custom limit', async () => {
    const reader = new LineReader({ maxLineBytes: 4 });
    feed(reader, 'abcd\nabcde\n');
    assert.equal(await reader.nextLine(), 'abcd');
    await assert.rejects(reader.nextLine(), LineTooLongError);
  });
});

describe('LineReader raw bytes', () => {
  it('hands out exactly N raw bytes straddling chunks, then returns to lines', async () => {
    const reader = new LineReader();
    const payload = patternBytes(1000);
    const wire = Buffer.concat([Buffer.from('upload x\n4\n'), Buffer.from('\n\r\nA'), payload, Buffer.from('exit\n')]);
    const chunks = [wire.subarray(0, 7), wire.subarray(7, 13), wire.subarray(13, 500), wire.subarray(500)];
    feed(reader, ...chunks);
    assert.equal(await reader.nextLine(), 'upload x');
    assert.equal(await reader.nextLine(), '4');
    // Raw mode takes bytes verbatim: LF and CR are data here.
    assert.deepEqual(await buffer(reader.readBytes(4)), Buffer.from('\n\r\nA'));
    const raw = reader.readBytes(payload.length);
    assert.deepEqual(await buffer(raw), payload);
    assert.equal(raw.bytesRead, payload.length);
    assert.equal(await reader.nextLine(), 'exit');
    assert.equal(await reader.nextLine(), null);
  });

  it('hands out raw bytes written one byte per chunk', async () => {
    const reader = new LineReader();
    const payload = patternBytes(300, 7);
    feed(reader, ...byteByByte(Buffer.concat([Buffer.from('3\n'), payload, Buffer.from('show\n')])));
    assert.equal(await reader.nextLine(), '3');
    assert.deepEqual(await buffer(reader.readBytes(payload.length)), payload);
    assert.equal(await reader.nextLine(), 'show');
  });

  it('returns an empty stream for zero bytes and stays in line mode', async () => {
    const reader = new LineReader();
    feed(reader, 'show\n');
    assert.equal((await buffer(reader.readBytes(0))).length, 0);
    assert.equal(await reader.nextLine(), 'show');
  });

  it('is not busy-confused: a line cannot be read while raw bytes are owed', async () => {
    const reader = new LineReader();
    const raw = reader.readBytes(2);
    await assert.rejects(reader.nextLine(), /busy/);
    assert.throws(() => reader.readBytes(1), /busy/);
    feed(reader, 'ab');
    assert.deepEqual(await buffer(raw), Buffer.from('ab'));
  });

  it('fails the raw stream with TruncatedError when the input ends early', async () => {
    const reader = new LineReader();
    feed(reader, '5\nabc');
    assert.equal(await reader.nextLine(), '5');
    await assert.rejects(buffer(reader.readBytes(5)), (error: Error) => error instanceof TruncatedError && /2 bytes/.test(error.message));
  });

  it('fails the raw stream with the error the reader is destroyed with', async () => {
    const reader = new LineReader();
    reader.write(Buffer.from('ab'));
    const raw = reader.readBytes(10);
    const cut = new Error('socket reset');
    reader.on('error', () => {});
    reader.destroy(cut);
    await assert.rejects(buffer(raw), (error) => error === cut);
  });

  it('regression: fails a paused raw stream at once when the input is cut short, without waiting for a read', async () => {
    const reader = new LineReader();
    const raw = reader.readBytes(1024 * 1024);
    raw.pause();
    // The first chunk fills the paused stream; the second waits in the reader's own buffer.
    reader.write(patternBytes(200 * 1024, 2));
    reader.write(patternBytes(200 * 1024, 3));
    await tick();
    const failed = new Promise<Error>((resolve) => raw.once('error', resolve));
    reader.on('error', () => {});
    reader.destroy(new Error('socket reset'));
    assert.match((await within(failed, 2000, 'the paused stream to fail')).message, /socket reset/);
  });

  it('a destroyed raw stream releases the reader for lines', async () => {
    const reader = new LineReader();
    const raw = reader.readBytes(1000);
    raw.destroy();
    await tick();
    feed(reader, 'show\n');
    assert.equal(await reader.nextLine(), 'show');
  });

  it('backpressure: a paused raw consumer stops the source instead of buffering it', async () => {
    const reader = new LineReader();
    const chunk = 16 * 1024;
    const total = 4 * 1024 * 1024;
    let produced = 0;
    const source = new Readable({
      highWaterMark: chunk,
      read() {
        if (produced >= total) return void this.push(null);
        produced += chunk;
        this.push(patternBytes(chunk, produced / chunk));
      },
    });
    const piped = pipeline(source, reader);
    const raw = reader.readBytes(total);
    for (let i = 0; i < 50; i++) await tick();
    // Nobody reads `raw`: only a few buffers' worth may have left the source, never the whole file.
    const bound = 512 * 1024;
    assert.ok(produced < bound, `source produced ${produced} bytes with no consumer (bound ${bound})`);
    const got = createHash('sha256');
    let received = 0;
    for await (const piece of raw as AsyncIterable<Buffer>) {
      got.update(piece);
      received += piece.length;
    }
    const want = createHash('sha256');
    for (let i = 1; i <= total / chunk; i++) want.update(patternBytes(chunk, i));
    assert.equal(received, total);
    assert.equal(got.digest('hex'), want.digest('hex'));
    await within(piped);
  });
});
