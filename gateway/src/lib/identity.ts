import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { TftcpReplyError, type SignedIn, type TftcpClient, type TftcpConnectionError } from 'tor-server/client';
import { ErrorKind } from 'tor-server/protocol';
import { GatewayError, endsSignIn } from '../errors.js';
import { ChangeFeed } from './change-feed.js';
import { CommandPool } from './command-pool.js';
import type { SignInGate } from './sign-in-gate.js';
import { TransferPool } from './transfer-pool.js';
import type { ConnectOptions, Connector, SlotKind, Upstream } from './upstream.js';
import type { UpstreamLink } from './upstream-link.js';

/** Whether the tor-server takes `client <address>` from this gateway; shared by every identity. */
export interface ClientNaming {
  /** When the tor-server last refused it (this gateway is not, or not yet, in its --trusted-proxies). */
  refusedAt?: number;
}

// After a refused `client`, connections sign in without it for this long, then try again: the
// tor-server may learn this gateway's address later (a host name it looks up again).
const NAMING_RETRY_MS = 60_000;

export interface IdentityOptions {
  upstream: Upstream;
  /** A hash of the token (never the token): what logs and maps name the identity by. */
  key: string;
  /** The token its connections sign in with; undefined: the anonymous identity (open mode). */
  token: string | undefined;
  link: UpstreamLink;
  log: FastifyBaseLogger;
  naming: ClientNaming;
  /** Told when the tor-server refuses the token on the identity's own (its change feed): the registry ends it. */
  onRefused: (identity: Identity, reply: string) => void;
  /** Turns per end-user address for sign-ins of a token not yet accepted. */
  signInGate: SignInGate;
  /** The bound on token change feeds: take() is false when none is free; give() returns one. */
  feedSlots: FeedSlots;
  /** The command pool's size. */
  poolSize: number;
  queueTimeoutMs?: number;
  /** True for the anonymous identity: its change feed stays for the gateway's lifetime, as before sign-in existed. */
  keepFeed?: boolean;
  /** A token's feed is closed this long after its last session left (a reload comes back within it). */
  feedLingerMs?: number;
  ringSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** A bound on change feeds, shared by every identity. */
export interface FeedSlots {
  take(): boolean;
  give(): void;
}

interface IdentityEvents {
  /** The tor-server refused the token (its reply line): its sessions must sign in again. */
  refused: [reply: string];
}

const DEFAULT_FEED_LINGER_MS = 10_000;
/** Hex digits of the token hash that logs name an identity by. */
export const KEY_LOG_LENGTH = 12;

/**
 * One user of the gateway as the tor-server knows them: a token, or nobody (the anonymous
 * identity). Owns that user's command pool, transfer pool and change feed; every connection
 * they open goes through `connect`, which takes a slot of the shared Upstream, names the end
 * user's address (`client`) and signs in (`auth`) before the pools see it. The gateway decides
 * nothing: a refusal is the tor-server's, passed on.
 */
export class Identity extends EventEmitter<IdentityEvents> implements Connector {
  readonly key: string;
  readonly commandPool: CommandPool;
  readonly transferPool: TransferPool;
  /** What the last sign-in answered. */
  signedIn: SignedIn | undefined;
  /** When a request or session last used it (Date.now()). */
  lastUsed = Date.now();
  /** Requests being served with it now (Identities counts them): it is never dropped meanwhile. */
  requests = 0;
  readonly #options: IdentityOptions;
  readonly #upstream: Upstream;
  readonly #reclaimers = new Map<() => boolean, SlotKind>();
  #feed: ChangeFeed | undefined;
  #feedTimer: NodeJS.Timeout | undefined;
  #sessions = 0;
  /** Connections open or being opened for it. */
  #open = 0;
  /** Set once closed: what a later connect answers. */
  #closedBecause: GatewayError | undefined;
  /** The feed holds one of the shared feed slots. */
  #feedSlot = false;

  constructor(options: IdentityOptions) {
    super();
    // One listener per open WebSocket of this user.
    this.setMaxListeners(0);
    this.#options = options;
    this.key = options.key;
    this.#upstream = options.upstream;
    this.commandPool = new CommandPool({ upstream: this, size: options.poolSize, queueTimeoutMs: options.queueTimeoutMs, keepOne: () => this.#sessions > 0 });
    this.transferPool = new TransferPool({ upstream: this });
    if (options.keepFeed) this.#feed = this.#newFeed(undefined);
  }

  /** True for a user signed in with a token. */
  get signsIn(): boolean {
    return this.#options.token !== undefined;
  }

  /** WebSocket sessions open now. */
  get sessions(): number {
    return this.#sessions;
  }

  /** Connections open or being opened now (pools, transfers, the feed). */
  get openCount(): number {
    return this.#open;
  }

  /** The change feed, while it exists (the anonymous one always; a token's while sessions are open, and shortly after). */
  get feed(): ChangeFeed | undefined {
    return this.#feed;
  }

  get queuedCount(): number {
    return this.#upstream.queuedCount;
  }

  get pooledQueuedCount(): number {
    return this.#upstream.pooledQueuedCount;
  }

  /**
   * Opens a connection on the Upstream, then names the end user's address (`clientAddress`,
   * the request's own) and signs in; a refused token fails it. Until a sign-in of the token
   * has been accepted, each one waits for a turn of its address (lib/sign-in-gate.ts).
   */
  async connect(options: ConnectOptions = {}): Promise<TftcpClient> {
    if (this.#closedBecause) throw this.#closedBecause;
    const { token, signInGate } = this.#options;
    const endTurn = token !== undefined && this.signedIn === undefined ? await signInGate.enter(options.clientAddress, options.signal) : undefined;
    try {
      return await this.#connectSignedIn(token, options);
    } finally {
      endTurn?.();
    }
  }

  async #connectSignedIn(token: string | undefined, options: ConnectOptions): Promise<TftcpClient> {
    this.#open++;
    let client: TftcpClient;
    try {
      client = await this.#upstream.connect(options);
    } catch (error) {
      this.#open--;
      throw error;
    }
    client.once('close', () => this.#open--);
    if (token === undefined) return client;
    try {
      await this.#nameClient(client, options.clientAddress);
      this.signedIn = await client.auth(token);
    } catch (error) {
      // After `Invalid token` the server closes anyway; after anything else the exchange is unknown.
      this.#upstream.discard(client);
      if (error instanceof TftcpReplyError) this.#options.log.info({ identity: this.key.slice(0, KEY_LOG_LENGTH), reply: error.reply }, 'the tor-server refused the sign-in');
      throw error;
    }
    return client;
  }

  release(client: TftcpClient): void {
    this.#upstream.release(client);
  }

  discard(client: TftcpClient, error?: TftcpConnectionError): void {
    this.#upstream.discard(client, error);
  }

  addReclaimer(reclaim: () => boolean, kind: SlotKind): () => void {
    this.#reclaimers.set(reclaim, kind);
    return () => this.#reclaimers.delete(reclaim);
  }

  /** Closes one idle connection of the kind (for a request of another user waiting for a slot); true when it did. */
  reclaim(kind: SlotKind): boolean {
    for (const [reclaim, own] of this.#reclaimers) if (own === kind && reclaim()) return true;
    return false;
  }

  /**
   * A WebSocket session of this user opens (from `clientAddress`): its change feed starts (or
   * stays). Undefined when the user has no feed and every feed slot is taken: the session then
   * goes without live changes.
   */
  join(clientAddress: string): ChangeFeed | undefined {
    this.#sessions++;
    this.lastUsed = Date.now();
    clearTimeout(this.#feedTimer);
    this.#feedTimer = undefined;
    if (!this.#feed) {
      // The anonymous feed is always there; a token's takes one of the shared slots, if any is free.
      this.#feedSlot = !this.#options.keepFeed && this.#options.feedSlots.take();
      if (this.#options.keepFeed || this.#feedSlot) this.#feed = this.#newFeed(clientAddress);
    }
    this.#feed?.start();
    return this.#feed;
  }

  /** A session closed: a token's feed ends a little after its last session. */
  leave(): void {
    this.#sessions = Math.max(0, this.#sessions - 1);
    this.lastUsed = Date.now();
    if (this.#sessions > 0 || this.#options.keepFeed || !this.#feed) return;
    clearTimeout(this.#feedTimer);
    this.#feedTimer = setTimeout(() => {
      this.#feedTimer = undefined;
      if (this.#sessions === 0) this.#dropFeed();
    }, this.#options.feedLingerMs ?? DEFAULT_FEED_LINGER_MS);
    this.#feedTimer.unref();
  }

  /**
   * The tor-server refused the token (`reply`): its sessions are told, its feed stops; a token
   * identity is closed (the registry forgets it), the anonymous one starts over at its next session.
   */
  refuse(reply: string): void {
    this.emit('refused', reply);
    this.#dropFeed();
    if (this.signsIn) this.close(new GatewayError('GW_ERR_UNAUTHORIZED', reply, { signInRefused: true }));
  }

  /**
   * Signs its idle connections out and ends its feed; waiting commands, and any later
   * connect, get `reason` (default: the gateway is shutting down).
   */
  close(reason: GatewayError = new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down')): void {
    if (this.#closedBecause) return;
    this.#closedBecause = reason;
    clearTimeout(this.#feedTimer);
    this.#dropFeed();
    this.commandPool.close(reason);
    this.transferPool.close();
  }

  #newFeed(clientAddress: string | undefined): ChangeFeed {
    const { link, log, ringSize, minBackoffMs, maxBackoffMs } = this.#options;
    const feed = new ChangeFeed({ upstream: this, link, log, ringSize, minBackoffMs, maxBackoffMs, clientAddress });
    feed.once('refused', (error) => {
      // Only a dead sign-in ends the sessions; a level or a file that allows no watch leaves them without events.
      if (endsSignIn(error.kind)) this.#options.onRefused(this, error.reply);
    });
    return feed;
  }

  #dropFeed(): void {
    const feed = this.#feed;
    if (!feed) return;
    this.#feed = this.#options.keepFeed && !this.#closedBecause ? this.#newFeed(undefined) : undefined;
    feed.close();
    if (this.#feedSlot) this.#options.feedSlots.give();
    this.#feedSlot = false;
  }

  /** `client <address>` for the tor-server's sign-in limit, unless it does not take it from this gateway. */
  async #nameClient(client: TftcpClient, address: string | undefined): Promise<void> {
    const { naming, log } = this.#options;
    if (address === undefined || (naming.refusedAt !== undefined && Date.now() - naming.refusedAt < NAMING_RETRY_MS)) return;
    try {
      await client.client(address);
    } catch (error) {
      if (!(error instanceof TftcpReplyError) || error.kind !== ErrorKind.PERMISSION_DENIED) throw error;
      if (naming.refusedAt === undefined) log.warn({ reply: error.reply }, 'the tor-server does not take end-user addresses from this gateway (add it to --trusted-proxies): failed sign-ins count against the gateway\'s address');
      naming.refusedAt = Date.now();
    }
  }
}
