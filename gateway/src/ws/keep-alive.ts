import type { WebSocket } from 'ws';

/** Pongs a session may miss in a row before it is dropped. */
export const MAX_MISSED_PONGS = 2;

/**
 * Pings `socket` every `intervalMs` (a protocol ping, which browsers answer by themselves) and
 * calls `onDead` once it has missed MAX_MISSED_PONGS pongs in a row: a peer that vanished
 * without closing (a laptop lid shut, a NAT that forgot the connection) is noticed and its
 * session freed. While the session has paused reading the socket (backpressure), pongs cannot
 * be seen, so those intervals do not count. Returns the function that stops it.
 */
export function keepAlive(socket: WebSocket, intervalMs: number, onDead: () => void): () => void {
  let awaitingPong = false;
  let missed = 0;
  const onPong = () => {
    awaitingPong = false;
    missed = 0;
  };
  socket.on('pong', onPong);
  const timer = setInterval(() => {
    if (socket.isPaused) return;
    missed = awaitingPong ? missed + 1 : 0;
    if (missed >= MAX_MISSED_PONGS) return onDead();
    awaitingPong = true;
    socket.ping();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    socket.off('pong', onPong);
  };
}
