import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { Scope } from 'test-support';
import { mbps } from 'test-support/bench';

/** A child process pipes `file` (`size` bytes) into a plain socket; this process counts and drops the bytes. MB/s. */
export async function rawBaseline(file: string, size: number, scope: Scope): Promise<number> {
  const receiver = net.createServer();
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as net.AddressInfo;
  const sender = spawn(process.execPath, [
    '-e',
    `const s=require('net').connect(${port},'127.0.0.1',()=>require('fs').createReadStream(${JSON.stringify(file)},{highWaterMark:256*1024}).pipe(s))`,
  ]);
  scope.after(() => sender.kill('SIGKILL'));
  const [socket] = (await once(receiver, 'connection')) as [net.Socket];
  // Timed from the connection on, so the sender's process start-up does not count.
  const started = performance.now();
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  await once(socket, 'end');
  const ms = performance.now() - started;
  receiver.close();
  if (received !== size) throw new Error(`baseline received ${received} bytes`);
  return mbps(size, ms);
}
