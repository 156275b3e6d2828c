import { ApiPath, type HealthResponse } from 'gateway/api';
import { KeepAlive, PING_INTERVAL_MS } from '../lib/keep-alive.js';
import type { WsClient } from '../lib/ws-client.js';
import type { Clock } from './clock.svelte.js';
import type { ConnectionState } from './connection.svelte.js';
import type { FileListState } from './files.svelte.js';
import type { SessionState } from './session.svelte.js';

/** Where the gateway reports whether the tor-server is reachable. */
export const HEALTH_URL = ApiPath.health;

/**
 * A tor-server link that is back within this long is not reported as down: the gateway also
 * announces a link it is merely replacing (the tor-server closes idle connections).
 */
export const UPSTREAM_DOWN_GRACE_MS = 1500;

export interface LiveSyncParts {
  client: WsClient;
  connection: ConnectionState;
  files: FileListState;
  session: SessionState;
  clock: Clock;
}

/**
 * Keeps the page in step with the server: every change the gateway pushes is patched into the
 * list; after a reconnect, or when the tab becomes visible again, the list catches up on what
 * it missed (or reloads); it reloads when the tor-server is back. A keep-alive replaces a
 * socket that stopped answering. Returns the function that undoes it all.
 */
export function startLiveSync({ client, connection, files, session, clock }: LiveSyncParts): () => void {
  const stops: Array<() => void> = [];
  const keepAlive = new KeepAlive({ ping: () => client.ping(PING_INTERVAL_MS), onDead: () => client.reconnect() });
  stops.push(() => keepAlive.stop());
  let downTimer: ReturnType<typeof setTimeout> | null = null;
  const cancelDown = () => {
    if (downTimer !== null) clearTimeout(downTimer);
    downTimer = null;
  };
  stops.push(cancelDown);

  stops.push(
    client.onState((state) => {
      cancelDown();
      connection.setSocket(state);
      if (state !== 'open') {
        keepAlive.stop();
        return;
      }
      keepAlive.start();
      void loadUpstreamState(connection);
      void session.load();
      void (files.loaded ? files.catchUp() : files.refresh()).then(() => {
        if (files.error === null && connection.upstream === null) connection.setUpstream(true);
      });
    }),
  );

  stops.push(
    client.onEvent((event) => {
      if (event.event === 'files-changed') {
        files.receive(event.change);
      } else if (event.connected) {
        connection.setNoLiveChanges(event.liveChanges === false ? (event.reason ?? 'live changes are unavailable: list again to see changes') : null);
        // The socket's first word is `connected` too: only a link that went down needs a new listing.
        const wasDown = connection.upstream === false || downTimer !== null;
        cancelDown();
        connection.setUpstream(true);
        if (!wasDown) return;
        // Whatever changed while the link was away shows up now; a restarted server may grant another level.
        void files.refresh();
        void session.load();
      } else if (downTimer === null && connection.upstream !== false) {
        downTimer = setTimeout(() => {
          downTimer = null;
          connection.setUpstream(false);
        }, UPSTREAM_DOWN_GRACE_MS);
      }
    }),
  );

  // The tor-server refused this user's sign-in (token revoked or expired): the sign-in comes back.
  stops.push(client.onSignedOut((reason) => session.end(reason)));

  const onVisible = () => {
    if (document.visibilityState !== 'visible') return;
    clock.tick();
    client.reconnectNow();
    if (client.state === 'open') void files.catchUp();
  };
  document.addEventListener('visibilitychange', onVisible);
  stops.push(() => document.removeEventListener('visibilitychange', onVisible));

  // The browser knows when the network comes back before our backoff timer does.
  const onOnline = () => client.reconnectNow();
  window.addEventListener('online', onOnline);
  stops.push(() => window.removeEventListener('online', onOnline));

  stops.push(clock.start());
  connection.setSocket(client.state);
  client.start();
  stops.push(() => client.stop());

  return () => {
    for (const stop of stops.reverse()) stop();
  };
}

/** Asks the gateway once whether the tor-server is up, until its first `upstream` event says so. */
async function loadUpstreamState(connection: ConnectionState): Promise<void> {
  try {
    const response = await fetch(HEALTH_URL, { cache: 'no-store' });
    const health = (await response.json()) as HealthResponse;
    // An `upstream` event that arrived meanwhile is newer than this answer.
    if (connection.upstream === null) connection.setUpstream(health.upstream === 'ok');
  } catch {
    // The socket's own close will tell the badge if the gateway is gone.
  }
}
