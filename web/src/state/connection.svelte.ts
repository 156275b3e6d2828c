import type { SocketState } from '../lib/ws-client.js';

/** What the status badge says: the WebSocket to the gateway and the tor-server behind it. */
export type ConnectionPhase = 'connecting' | 'online' | 'upstream-down' | 'offline';

/** The live state of both links; the sync wiring feeds it, components read it. */
export class ConnectionState {
  #socket = $state<SocketState>('closed');
  #upstream = $state<boolean | null>(null);
  #everOpened = $state(false);
  #noLiveChanges = $state<string | null>(null);

  /** The WebSocket to the gateway. */
  get socket(): SocketState {
    return this.#socket;
  }

  /** Whether the gateway reaches the tor-server; null until known. */
  get upstream(): boolean | null {
    return this.#upstream;
  }

  /** Why this page gets no live changes (the gateway follows as many users as it may), or null when it does. */
  get noLiveChanges(): string | null {
    return this.#noLiveChanges;
  }

  readonly phase: ConnectionPhase = $derived.by(() => {
    if (this.#socket === 'open') return this.#upstream === false ? 'upstream-down' : 'online';
    // Before the first connection it is "connecting"; after a loss it is "offline, retrying".
    return this.#everOpened ? 'offline' : 'connecting';
  });

  /** Records a WebSocket state change. */
  setSocket(state: SocketState): void {
    this.#socket = state;
    if (state === 'open') this.#everOpened = true;
    // The upstream is only known through an open socket.
    else {
      this.#upstream = null;
      this.#noLiveChanges = null;
    }
  }

  /** Records whether the gateway follows changes for this page (null) or why not. */
  setNoLiveChanges(reason: string | null): void {
    this.#noLiveChanges = reason;
  }

  /** Records whether the tor-server is reachable. */
  setUpstream(connected: boolean): void {
    this.#upstream = connected;
  }
}
