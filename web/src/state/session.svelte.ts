import { HttpStatus, type AccessLevel, type SessionResponse } from 'gateway/api';
import { messageOf } from '../lib/errors.js';
import { fetchSession, isSignedOut, signIn, signOut } from '../lib/session-api.js';

/** Where the page stands: asking the gateway, signed in (or open mode), or waiting for a token. */
export type SessionPhase = 'checking' | 'signed-in' | 'signed-out';

/**
 * Who this page is to the tor-server and what it may do; the controls it shows follow from it.
 * The server decides everything: a refusal here is its own line, shown as is.
 */
export class SessionState {
  #phase = $state<SessionPhase>('checking');
  #access = $state<AccessLevel | null>(null);
  #label = $state<string | null>(null);
  #reason = $state<string | null>(null);
  #busy = $state(false);
  #filesShown = $state(false);
  #checking: Promise<void> | null = null;
  /** Bumped by every sign-in and sign-out: a check that started before one has nothing to say after it. */
  #epoch = 0;
  #signOutError = $state<string | null>(null);

  get phase(): SessionPhase {
    return this.#phase;
  }

  /** The access level; null until the gateway has said. */
  get access(): AccessLevel | null {
    return this.#access;
  }

  /** The token's label; null in open mode (nobody signed in). */
  get label(): string | null {
    return this.#label;
  }

  /** Why the sign-in screen shows (the server's words: `Invalid token`, `Permission denied: token expired`). */
  get reason(): string | null {
    return this.#reason;
  }

  /** Why the last sign-out failed (still signed in then). */
  get signOutError(): string | null {
    return this.#signOutError;
  }

  /** True while a sign-in or sign-out is under way. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * True once the file manager has been shown: a session that ends later (revoked, expired)
   * brings the sign-in over it, so its list and transfers are still there after signing in again.
   */
  get filesShown(): boolean {
    return this.#filesShown;
  }

  /** Uploads are offered unless the server is read-only (while unknown too: the server has the last word). */
  readonly canUpload: boolean = $derived(this.#access !== 'read');
  /**
   * Share links need write access, and a sign-in: in open mode everyone can already download
   * every file, so a link would add nothing (and the page stays as it always was there).
   */
  readonly canShare: boolean = $derived(this.#label !== null && (this.#access === 'write' || this.#access === 'admin'));
  /** Delete and rename are offered only when the server allows them. */
  readonly canManage: boolean = $derived(this.#access === 'admin');
  /** Signing out means something only with a token (open mode has nobody to sign out). */
  readonly canSignOut: boolean = $derived(this.#label !== null);

  /** The first step of the page: signs in with a `#token=` link's token, or asks who this page is. */
  start(token: string | null): Promise<void> {
    return token === null ? this.load() : this.signIn(token);
  }

  /** Asks the gateway again (on every connection, after a refusal): the level may have changed, or the session ended. */
  load(): Promise<void> {
    this.#checking ??= this.#check().finally(() => (this.#checking = null));
    return this.#checking;
  }

  /** Whether the sign-in is gone: asks the gateway again while the page still thinks it is signed in (after a 401). */
  async signedOut(): Promise<boolean> {
    if (this.#phase === 'signed-in') await this.load();
    return this.#phase === 'signed-out';
  }

  /** Signs in with a token; on refusal the sign-in screen shows the server's line. */
  async signIn(token: string): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#epoch += 1;
    try {
      this.#signedIn(await signIn(token));
    } catch (error) {
      this.#signedOut(messageOf(error));
    } finally {
      this.#busy = false;
    }
  }

  /** Signs out and leaves the file manager for the sign-in screen. */
  async signOut(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#signOutError = null;
    try {
      await signOut();
      this.#epoch += 1;
      this.#filesShown = false;
      this.#signedOut(null);
    } catch (error) {
      // Still signed in (the cookie is the gateway's to clear): say why, stay.
      this.#signOutError = messageOf(error);
    } finally {
      this.#busy = false;
    }
  }

  /** The session ended elsewhere (the gateway closed the WebSocket): the sign-in comes back with `reason`. */
  end(reason: string): void {
    if (this.#phase === 'signed-in') this.#signedOut(reason || null);
  }

  async #check(): Promise<void> {
    const epoch = this.#epoch;
    try {
      const session = await fetchSession();
      if (epoch === this.#epoch) this.#signedIn(session);
    } catch (error) {
      if (epoch !== this.#epoch) return;
      if (isSignedOut(error)) {
        // A first visit is simply not signed in yet; a session that ended (or an expired
        // cookie, 403) says why.
        const news = this.#filesShown || error.status === HttpStatus.FORBIDDEN;
        this.#signedOut(news ? error.message : null);
      } else if (this.#phase === 'checking') {
        // The gateway or the tor-server is away: the page opens with its offline badge, and
        // the check runs again once the socket opens.
        this.#phase = 'signed-in';
        this.#filesShown = true;
      }
      // Otherwise what was known stays: every action is still checked by the server itself.
    }
  }

  #signedIn(session: SessionResponse): void {
    this.#access = session.access;
    this.#label = session.label ?? null;
    this.#reason = null;
    this.#phase = 'signed-in';
    this.#filesShown = true;
  }

  #signedOut(reason: string | null): void {
    this.#phase = 'signed-out';
    this.#reason = reason;
    if (!this.#filesShown) {
      this.#access = null;
      this.#label = null;
    }
  }
}
