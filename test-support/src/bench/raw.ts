/**
 * The lean references: bare Node sockets speaking TFTCP (what the protocol allows, with no
 * client library's work in the way), and a plain socket fed from a file (what Node moves at all).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Owner } from '../scope.js';
import { mbps } from './report.js';

const READ_CHUNK_BYTES = 1024 * 1024;
/** The raw reader's one buffer: a socket read takes at most this much. */
const RAW_READ_BYTES = 1024 * 1024;
const DOWNLOAD_REQUEST = (name: string) => `download ${name}\n`;
const UPLOAD_REQUEST = (name: string) => `upload ${name}\n`;
/** `ok`, `found`, the size: the lines before a download's bytes. */
const DOWNLOAD_REPLY_LINES = 3;
/** The replies a raw writer reads: `ok` to the name, `ok` to the size, `end` after the bytes. */
const UPLOAD_REPLIES = ['ok', 'ok', 'end'];
/** Longest reply line a raw reader keeps while it looks for the end of the reply. */
const MAX_REPLY_BYTES = 4096;

/**
 * A bare socket sends `download`, skips the three reply lines and counts the bytes: what the
 * protocol allows. It reads into one reused 1 MiB buffer (`onread`), so the figure is the
 * server's and the kernel's, not the reader's allocations.
 */
export async function rawSocketDownload(port: number, name: string, size: number): Promise<number> {
  let header = Buffer.alloc(0);
  let received = -1;
  let failure: Error | undefined;
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const socket = net.connect({
    port,
    host: '127.0.0.1',
    onread: {
      buffer: Buffer.allocUnsafe(RAW_READ_BYTES),
      callback: (length, buffer) => {
        if (received < 0) {
          header = Buffer.concat([header, (buffer as Buffer).subarray(0, length)]);
          const bodyStart = afterLines(header, DOWNLOAD_REPLY_LINES);
          if (bodyStart === undefined) {
            if (header.length > MAX_REPLY_BYTES) failure = new Error(`raw reader got no reply within ${MAX_REPLY_BYTES} bytes`);
          } else {
            const lines = header.subarray(0, bodyStart).toString('latin1').split('\n');
            if (lines[0] !== 'ok' || lines[1] !== 'found' || Number(lines[2]) !== size) failure = new Error(`raw reader got "${lines.slice(0, 3).join(' | ')}"`);
            received = header.length - bodyStart;
          }
        } else {
          received += length;
        }
        if (failure || received >= size) {
          finish();
          return false;
        }
        return true;
      },
    },
  });
  socket.once('error', fail);
  socket.once('close', finish);
  await once(socket, 'connect');
  const started = performance.now();
  socket.write(DOWNLOAD_REQUEST(name));
  try {
    await finished;
  } finally {
    socket.destroy();
  }
  const ms = performance.now() - started;
  if (failure) throw failure;
  if (received !== size) throw new Error(`raw reader received ${received} of ${size} bytes`);
  return mbps(size, ms);
}

/**
 * A bare socket sends `upload <name>`, the size line and the file's bytes (streamed, with
 * backpressure), and reads the three replies: what the protocol allows for an upload.
 */
export async function rawSocketUpload(port: number, file: string, size: number, name: string): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const replies = replyLines(socket);
  const expect = async (step: number) => {
    const { value: line } = await replies.next();
    if (line !== UPLOAD_REPLIES[step]) throw new Error(`raw writer: upload ${name} answered "${line ?? '(connection closed)'}" where "${UPLOAD_REPLIES[step]}" was due`);
  };
  try {
    const started = performance.now();
    socket.write(UPLOAD_REQUEST(name));
    await expect(0);
    socket.write(`${size}\n`);
    await expect(1);
    // end: false, so the socket stays open for the `end` reply.
    await pipeline(createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }), socket, { end: false });
    await expect(2);
    return mbps(size, performance.now() - started);
  } finally {
    await replies.return(undefined);
    socket.destroy();
  }
}

/** The reply lines a socket receives, one at a time, with a bound on a line's length. */
async function* replyLines(socket: net.Socket): AsyncGenerator<string, void, undefined> {
  let pending = '';
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    pending += chunk.toString('latin1');
    for (let lf = pending.indexOf('\n'); lf !== -1; lf = pending.indexOf('\n')) {
      yield pending.slice(0, lf);
      pending = pending.slice(lf + 1);
    }
    if (pending.length > MAX_REPLY_BYTES) throw new Error(`a reply line longer than ${MAX_REPLY_BYTES} bytes`);
  }
}

/** The offset just past the `count`th LF in `buffer`, or undefined when it has fewer. */
function afterLines(buffer: Buffer, count: number): number | undefined {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const lf = buffer.indexOf(0x0a, at);
    if (lf === -1) return undefined;
    at = lf + 1;
  }
  return at;
}

/** A child Node process pipes `file` (`size` bytes) into a plain socket; this process counts and drops the bytes. MB/s. */
export async function rawBaseline(file: string, size: number, owner: Owner): Promise<number> {
  const receiver = net.createServer();
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as net.AddressInfo;
  const sender = spawn(process.execPath, [
    '-e',
    `const s=require('net').connect(${port},'127.0.0.1',()=>require('fs').createReadStream(${JSON.stringify(file)},{highWaterMark:${READ_CHUNK_BYTES}}).pipe(s))`,
  ]);
  owner.after(() => sender.kill('SIGKILL'));
  const [socket] = (await once(receiver, 'connection')) as [net.Socket];
  // Timed from the connection on, so the sender's process start-up does not count.
  const started = performance.now();
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  await once(socket, 'end');
  const ms = performance.now() - started;
  receiver.close();
  if (received !== size) throw new Error(`baseline received ${received} of ${size} bytes`);
  return mbps(size, ms);
}
