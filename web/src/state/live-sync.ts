import { ApiPath, type HealthResponse } from 'gateway/api';
import type { WsClient } from '../lib/ws-client.js';
import type { Clock } from './clock.svelte.js';
import type { ConnectionState } from './connection.svelte.js';
import type { FileListState } from './files.svelte.js';

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
  clock: Clock;
}

/**
 * Keeps the page in step with the server: the list reloads when the socket (re)opens, when the
 * gateway says files changed or the tor-server is back, and when the tab becomes visible again.
 * Returns the function that undoes it all.
 */
export function startLiveSync({ client, connection, files, clock }: LiveSyncParts): () => void {
  const stops: Array<() => void> = [];
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
      if (state !== 'open') return;
      void loadUpstreamState(connection);
      void files.refresh().then(() => {
        if (files.error === null && connection.upstream === null) connection.setUpstream(true);
      });
    }),
  );

  stops.push(
    client.onEvent((event) => {
      if (event.event === 'files-changed') {
        void files.refresh();
      } else if (event.connected) {
        cancelDown();
        connection.setUpstream(true);
        // Whatever changed while the link was away (uploads by other clients) shows up now.
        void files.refresh();
      } else if (downTimer === null && connection.upstream !== false) {
        downTimer = setTimeout(() => {
          downTimer = null;
          connection.setUpstream(false);
        }, UPSTREAM_DOWN_GRACE_MS);
      }
    }),
  );

  const onVisible = () => {
    if (document.visibilityState !== 'visible') return;
    clock.tick();
    client.reconnectNow();
    if (client.state === 'open') void files.refresh();
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
