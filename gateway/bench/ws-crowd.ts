/** The WebSocket crowd the gateway bench sends (its transfers are in `npm run bench:table`). */
import { crowd } from 'test-support/bench';
import WebSocket from 'ws';
import type { WsServerMessage } from '../src/api/index.js';

/** Opens `count` sockets at once; each waits for its upstream, runs show and search, and closes. */
export function wsCrowd(base: string, count: number): Promise<{ errors: number; ms: number }> {
  return crowd(count, () => wsSession(base.replace(/^http/, 'ws') + '/api/ws'));
}

function wsSession(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => fail(new Error('no answer within 30 s')), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const answered = new Set<number>();
    socket.on('error', fail);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as WsServerMessage;
      if ('event' in message) {
        if (message.event !== 'upstream') return;
        if (!message.connected) return fail(new Error('the gateway reported the tor-server unreachable'));
        socket.send(JSON.stringify({ id: 1, command: 'show' }));
        socket.send(JSON.stringify({ id: 2, command: 'search', text: 'big' }));
        return;
      }
      if (!message.ok) return fail(new Error(`request ${message.id} failed: ${message.error}`));
      if (message.id === 2 && 'files' in message && message.files.length !== 1) return fail(new Error(`search found ${message.files.length} files`));
      answered.add(message.id);
      if (answered.size === 2) {
        clearTimeout(timer);
        socket.close();
        resolve();
      }
    });
  });
}
