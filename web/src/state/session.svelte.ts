import type { AccessLevel } from 'gateway/api';
import { sessionAccess } from '../lib/file-actions.js';

/** What the tor-server lets this page do; the controls it shows follow from it. */
export class SessionState {
  #access = $state<AccessLevel | null>(null);

  /** The access level; null until the gateway has said. */
  get access(): AccessLevel | null {
    return this.#access;
  }

  /** Uploads are offered unless the server is read-only (while unknown too: the server has the last word). */
  readonly canUpload: boolean = $derived(this.#access !== 'read');
  /** Delete and rename are offered only when the server allows them. */
  readonly canManage: boolean = $derived(this.#access === 'admin');

  /** Asks the gateway (on every connection: a restarted server may have another level). */
  async load(): Promise<void> {
    try {
      this.#access = await sessionAccess();
    } catch {
      // Keep what was known: every action is still checked by the server itself.
    }
  }
}
