import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { refusalKind } from 'tor-server/client';
import { SignInRefusal } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';
import { Identity, type ClientNaming, type FeedSlots } from './identity.js';
import { RefusedTokens } from './refused-tokens.js';
import { clearSessionCookie, requestToken, type CookieParser } from './session-cookie.js';
import { SignInGate, type SignInGateOptions } from './sign-in-gate.js';
import { isTokenShaped } from './token-id.js';
import type { SlotKind, Upstream } from './upstream.js';
import type { UpstreamLink } from './upstream-link.js';

export interface IdentitiesOptions {
  upstream: Upstream;
  link: UpstreamLink;
  log: FastifyBaseLogger;
  parseCookie: CookieParser;
  /** Each identity's command pool size. */
  poolSize: number;
  queueTimeoutMs?: number;
  /** Most identities kept at once; beyond, idle ones are dropped, and with none idle a new user gets 503. Default 10,000. */
  maxIdentities?: number;
  /** An identity with no connection, no session and no request under way is dropped once unused this long. Default 15 s. */
  idleMs?: number;
  /** Most change feeds of signed-in users at once (each holds a connection); beyond, a new user's WebSocket goes without one. */
  maxFeeds: number;
  /** Sign-ins of tokens not yet accepted, per end-user address (lib/sign-in-gate.ts). */
  signIns?: Partial<SignInGateOptions>;
  /** The tor-server's `Invalid token` for a token is answered from memory this long. Default 5 s. */
  refusedTokenMs?: number;
  feedLingerMs?: number;
  ringSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The key of the anonymous identity (no token); a token's key is a sha256, never the token. */
export const ANONYMOUS = 'anonymous';

const DEFAULT_MAX_IDENTITIES = 10_000;
const DEFAULT_IDLE_MS = 15_000;
const MAX_RESPONSE_CLOSE_LISTENERS = 32;

/** What a request used: its identity (none when its token was refused unlooked), whether the token came in the cookie, and how its count ends. */
interface RequestUse {
  identity: Identity | undefined;
  fromCookie: boolean;
  release: () => void;
}

/**
 * Every user the gateway serves, by a hash of their token: each with pools and a change feed of
 * its own (lib/identity.ts), made on demand, all sharing the Upstream's bound on connections.
 * When a request waits for a slot, idle connections are closed least recently used identity
 * first, so idle users never starve a new one; identities left with no connection, no session
 * and no request under way are dropped. A route gets its user's connections with
 * `forRequest(request)`, and names `request.ip` as `clientAddress` when it runs a command.
 */
export class Identities {
  readonly anonymous: Identity;
  readonly maxFeeds: number;
  readonly #options: IdentitiesOptions;
  readonly #naming: ClientNaming = {};
  /** Least recently used first. */
  readonly #byKey = new Map<string, Identity>();
  /** Which identity a request used, and whether its token came in the cookie. */
  readonly #requests = new WeakMap<FastifyRequest, RequestUse>();
  /** Each request's reply, whose closing ends the request's count on its identity. */
  readonly #replies = new WeakMap<FastifyRequest, FastifyReply>();
  readonly #signInGate: SignInGate;
  readonly #refusedTokens: RefusedTokens;
  readonly #feedSlots: FeedSlots;
  readonly #maxIdentities: number;
  readonly #idleMs: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #unregister: (() => void)[];
  #feeds = 0;

  constructor(options: IdentitiesOptions) {
    this.#options = options;
    this.#maxIdentities = options.maxIdentities ?? DEFAULT_MAX_IDENTITIES;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.maxFeeds = options.maxFeeds;
    if (!Number.isSafeInteger(this.maxFeeds) || this.maxFeeds < 1) throw new Error('Identities: maxFeeds must be at least 1');
    this.#signInGate = new SignInGate({ timeoutMs: options.queueTimeoutMs, ...options.signIns });
    this.#refusedTokens = new RefusedTokens(options.refusedTokenMs);
    this.#feedSlots = {
      take: () => {
        if (this.#feeds >= this.maxFeeds) return false;
        this.#feeds++;
        return true;
      },
      give: () => {
        this.#feeds--;
      },
    };
    this.anonymous = this.#create(ANONYMOUS, undefined);
    this.#sweeper = setInterval(() => this.#sweep(this.#idleMs), this.#idleMs);
    this.#sweeper.unref();
    this.#unregister = (['pooled', 'transfer'] as const).map((kind) => options.upstream.addReclaimer(() => this.#reclaim(kind), kind));
  }

  /** Identities kept now (the anonymous one included). */
  get count(): number {
    return this.#byKey.size;
  }

  /** Change feeds of signed-in users now (the anonymous one's is not counted). */
  get feedCount(): number {
    return this.#feeds;
  }

  /** Command pool connections of every identity. */
  get commandConnections(): number {
    return this.#sum((identity) => identity.commandPool.openCount);
  }

  /** Transfer connections kept idle by every identity. */
  get idleTransferConnections(): number {
    return this.#sum((identity) => identity.transferPool.idleCount);
  }

  /** Change feed connections of every identity. */
  get feedConnections(): number {
    return this.#sum((identity) => identity.feed?.connectionCount ?? 0);
  }

  /** True while some pooled connection is open: its closing would tell of an outage. */
  get hasLiveConnection(): boolean {
    for (const identity of this.#byKey.values()) if (identity.commandPool.hasLiveConnection) return true;
    return false;
  }

  /** An onRequest hook: remembers each request's reply, so that a request counts on its identity until its response closes. */
  readonly onRequest: onRequestHookHandler = (request, reply, done) => {
    this.#replies.set(request, reply);
    // A download's response has a dozen 'close' listeners, each of its own owner (the stream
    // pipeline, the transfer count, the metrics, the user count...): not a leak to warn of.
    reply.raw.setMaxListeners(MAX_RESPONSE_CLOSE_LISTENERS);
    done();
  };

  /**
   * The identity of a request (its Bearer token or session cookie; none: the anonymous one),
   * remembered so that a 401 can end it, and counted as in use until the response closes. A
   * token that cannot be one (too long, the wrong shape) is 401 `Invalid token` unlooked.
   */
  forRequest(request: FastifyRequest): Identity {
    const found = requestToken(request, this.#options.parseCookie);
    if (!found) {
      this.#use(request, this.#touch(this.anonymous), false);
      return this.anonymous;
    }
    if (!isTokenShaped(found.token)) {
      // Remembered all the same: the 401 clears a cookie that holds no token.
      this.#use(request, undefined, found.fromCookie);
      throw invalidToken();
    }
    const identity = this.forToken(found.token);
    this.#use(request, identity, found.fromCookie);
    return identity;
  }

  /** The identity of a token (a share link's, a sign-in's), made when new; a token the tor-server just refused is 401 at once. */
  forToken(token: string): Identity {
    const key = createHash('sha256').update(token).digest('hex');
    const known = this.#byKey.get(key);
    if (known) return this.#touch(known);
    if (this.#refusedTokens.has(key)) throw invalidToken();
    if (this.#byKey.size >= this.#maxIdentities) this.#sweep(0);
    if (this.#byKey.size >= this.#maxIdentities) {
      throw new GatewayError('GW_ERR_UPSTREAM_BUSY', `the gateway serves its maximum of ${this.#maxIdentities} signed-in users at once; try again shortly`);
    }
    return this.#touch(this.#create(key, token));
  }

  /**
   * The identity of a token a request brings of its own (a sign-in's, a share link's), used
   * as forRequest's: remembered for a 401's sake and counted until the response closes.
   */
  forRequestToken(request: FastifyRequest, token: string): Identity {
    if (!isTokenShaped(token)) throw invalidToken();
    const identity = this.forToken(token);
    this.#use(request, identity, false);
    return identity;
  }

  /** The request no longer holds its identity (a WebSocket once its session has joined). */
  release(request: FastifyRequest): void {
    this.#requests.get(request)?.release();
  }

  /**
   * A request was answered 401 because its sign-in was refused (by the tor-server, or its token
   * cannot be one): its identity ends (every session of it is told), the tor-server's
   * `Invalid token` is remembered for a few seconds, and a token from the cookie is cleared.
   */
  refused(request: FastifyRequest, reply: FastifyReply, message: string): void {
    const used = this.#requests.get(request);
    if (!used) return;
    if (used.identity) this.end(used.identity, message);
    if (used.fromCookie) clearSessionCookie(request, reply);
  }

  /** Ends an identity the tor-server refused, with its reply line; the next request with the token starts afresh. */
  end(identity: Identity, reply: string): void {
    if (identity.signsIn && this.#byKey.get(identity.key) === identity) this.#byKey.delete(identity.key);
    if (identity.signsIn && refusalKind(reply) === SignInRefusal.INVALID_TOKEN) this.#refusedTokens.add(identity.key);
    identity.refuse(reply);
  }

  /** Signs the user of a request out of this gateway: its idle connections are closed (the identity itself goes once unused). Never throws. */
  signOut(request: FastifyRequest): void {
    const found = requestToken(request, this.#options.parseCookie);
    if (!found || !isTokenShaped(found.token)) return;
    const identity = this.#byKey.get(createHash('sha256').update(found.token).digest('hex'));
    if (identity) while (identity.reclaim('pooled') || identity.reclaim('transfer'));
  }

  /** Closes every identity (the gateway is closing). */
  close(): void {
    clearInterval(this.#sweeper);
    for (const unregister of this.#unregister) unregister();
    for (const identity of this.#byKey.values()) identity.close();
    this.#byKey.clear();
  }

  #create(key: string, token: string | undefined): Identity {
    const { upstream, link, log, poolSize, queueTimeoutMs, feedLingerMs, ringSize, minBackoffMs, maxBackoffMs } = this.#options;
    const identity = new Identity({
      upstream,
      key,
      token,
      link,
      log,
      naming: this.#naming,
      onRefused: (refused, reply) => this.end(refused, reply),
      signInGate: this.#signInGate,
      feedSlots: this.#feedSlots,
      poolSize,
      queueTimeoutMs,
      keepFeed: token === undefined,
      feedLingerMs,
      ringSize,
      minBackoffMs,
      maxBackoffMs,
    });
    this.#byKey.set(key, identity);
    return identity;
  }

  /** Counts `request` on `identity` until its response closes (once per request). */
  #use(request: FastifyRequest, identity: Identity | undefined, fromCookie: boolean): void {
    const before = this.#requests.get(request);
    if (before && before.identity === identity) return;
    before?.release();
    let held = identity !== undefined;
    const release = () => {
      if (!held || !identity) return;
      held = false;
      identity.requests--;
      identity.lastUsed = Date.now();
    };
    if (identity) identity.requests++;
    this.#requests.set(request, { identity, fromCookie, release });
    const reply = this.#replies.get(request);
    if (reply?.raw.destroyed) release();
    else reply?.raw.once('close', release);
  }

  /** Marks an identity used just now: it moves to the end of the line idle connections are taken from. */
  #touch(identity: Identity): Identity {
    identity.lastUsed = Date.now();
    this.#byKey.delete(identity.key);
    this.#byKey.set(identity.key, identity);
    return identity;
  }

  /** Frees one idle connection of the kind, least recently used identity first. */
  #reclaim(kind: SlotKind): boolean {
    for (const identity of this.#byKey.values()) if (identity.reclaim(kind)) return true;
    return false;
  }

  /** Drops the token identities with no connection, no session and no request under way, unused for `idleMs`. */
  #sweep(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const identity of [...this.#byKey.values()]) {
      if (identity.signsIn && identity.sessions === 0 && identity.requests === 0 && identity.openCount === 0 && identity.lastUsed <= before) this.#drop(identity);
    }
  }

  #drop(identity: Identity): void {
    this.#byKey.delete(identity.key);
    // Nothing uses it (no request, session or connection): whoever comes with the token next gets a new one.
    identity.close(new GatewayError('GW_ERR_UPSTREAM_BUSY', 'the gateway set this sign-in aside to make room for other users; try again'));
  }

  #sum(count: (identity: Identity) => number): number {
    let total = 0;
    for (const identity of this.#byKey.values()) total += count(identity);
    return total;
  }
}

/** The refusal of a token the tor-server would refuse (or just did): its own line. */
function invalidToken(): GatewayError {
  return new GatewayError('GW_ERR_UNAUTHORIZED', SignInRefusal.INVALID_TOKEN, { signInRefused: true });
}
