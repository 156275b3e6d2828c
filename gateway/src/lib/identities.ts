import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import { Identity, type ClientNaming } from './identity.js';
import { clearSessionCookie, requestToken, type CookieParser } from './session-cookie.js';
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
  /** An identity with no connection and no session is dropped once unused this long. Default 15 s. */
  idleMs?: number;
  feedLingerMs?: number;
  ringSize?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** The key of the anonymous identity (no token); a token's key is a sha256, never the token. */
export const ANONYMOUS = 'anonymous';

const DEFAULT_MAX_IDENTITIES = 10_000;
const DEFAULT_IDLE_MS = 15_000;

/**
 * Every user the gateway serves, by a hash of their token: each with pools and a change feed of
 * its own (lib/identity.ts), made on demand, all sharing the Upstream's bound on connections.
 * When a request waits for a slot, idle connections are closed least recently used identity
 * first, so idle users never starve a new one; identities left with no connection and no
 * session are dropped. A route gets its user's connections with `forRequest(request)`.
 */
export class Identities {
  readonly anonymous: Identity;
  readonly #options: IdentitiesOptions;
  readonly #naming: ClientNaming = {};
  /** Least recently used first. */
  readonly #byKey = new Map<string, Identity>();
  /** Which identity a request used, and whether its token came in the cookie. */
  readonly #requests = new WeakMap<FastifyRequest, { identity: Identity; fromCookie: boolean }>();
  readonly #maxIdentities: number;
  readonly #idleMs: number;
  readonly #sweeper: NodeJS.Timeout;
  readonly #unregister: (() => void)[];

  constructor(options: IdentitiesOptions) {
    this.#options = options;
    this.#maxIdentities = options.maxIdentities ?? DEFAULT_MAX_IDENTITIES;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.anonymous = this.#create(ANONYMOUS, undefined);
    this.#sweeper = setInterval(() => this.#sweep(this.#idleMs), this.#idleMs);
    this.#sweeper.unref();
    this.#unregister = (['pooled', 'transfer'] as const).map((kind) => options.upstream.addReclaimer(() => this.#reclaim(kind), kind));
  }

  /** Identities kept now (the anonymous one included). */
  get count(): number {
    return this.#byKey.size;
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

  /**
   * The identity of a request (its Bearer token or session cookie; none: the anonymous one),
   * remembered so that a 401 can end it. Its connections name the request's address to the tor-server.
   */
  forRequest(request: FastifyRequest): Identity {
    const found = requestToken(request, this.#options.parseCookie);
    const identity = found ? this.forToken(found.token, request.ip) : this.#touch(this.anonymous, request.ip);
    this.#requests.set(request, { identity, fromCookie: found?.fromCookie ?? false });
    return identity;
  }

  /** The identity of a token (a share link's, a sign-in's), made when new. */
  forToken(token: string, address: string): Identity {
    const key = createHash('sha256').update(token).digest('hex');
    const known = this.#byKey.get(key);
    if (known) return this.#touch(known, address);
    if (this.#byKey.size >= this.#maxIdentities) this.#sweep(0);
    if (this.#byKey.size >= this.#maxIdentities) {
      throw new GatewayError('GW_ERR_UPSTREAM_BUSY', `the gateway serves its maximum of ${this.#maxIdentities} signed-in users at once; try again shortly`);
    }
    return this.#touch(this.#create(key, token), address);
  }

  /** Records that `request` uses `identity` (a route that picked it by a token of its own), for a 401's sake. */
  remember(request: FastifyRequest, identity: Identity): void {
    this.#requests.set(request, { identity, fromCookie: false });
  }

  /**
   * A request was answered 401 (the tor-server refused its sign-in): its identity ends (every
   * session of it is told) and, when its token came in the cookie, the cookie is cleared.
   */
  refused(request: FastifyRequest, reply: FastifyReply, message: string): void {
    const used = this.#requests.get(request);
    if (!used) return;
    this.end(used.identity, message);
    if (used.fromCookie) clearSessionCookie(request, reply);
  }

  /** Ends an identity the tor-server refused, with its reply line; the next request with the token starts afresh. */
  end(identity: Identity, reply: string): void {
    if (identity.signsIn && this.#byKey.get(identity.key) === identity) this.#byKey.delete(identity.key);
    identity.refuse(reply);
  }

  /** Signs a user out of this gateway: its idle connections are closed (the identity itself goes once unused). */
  signOut(identity: Identity): void {
    if (!identity.signsIn) return;
    while (identity.reclaim('pooled') || identity.reclaim('transfer'));
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
    const identity = new Identity({ upstream, key, token, link, log, naming: this.#naming, onRefused: (refused, reply) => this.end(refused, reply), poolSize, queueTimeoutMs, keepFeed: token === undefined, feedLingerMs, ringSize, minBackoffMs, maxBackoffMs });
    this.#byKey.set(key, identity);
    return identity;
  }

  /** Marks an identity used just now: it moves to the end of the line idle connections are taken from. */
  #touch(identity: Identity, address: string): Identity {
    identity.lastUsed = Date.now();
    identity.address = address;
    this.#byKey.delete(identity.key);
    this.#byKey.set(identity.key, identity);
    return identity;
  }

  /** Frees one idle connection of the kind, least recently used identity first. */
  #reclaim(kind: SlotKind): boolean {
    for (const identity of this.#byKey.values()) if (identity.reclaim(kind)) return true;
    return false;
  }

  /** Drops the token identities with no connection and no session, unused for `idleMs`. */
  #sweep(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const identity of [...this.#byKey.values()]) {
      if (identity.signsIn && identity.sessions === 0 && identity.openCount === 0 && identity.lastUsed <= before) this.#drop(identity);
    }
  }

  #drop(identity: Identity): void {
    this.#byKey.delete(identity.key);
    identity.close();
  }

  #sum(count: (identity: Identity) => number): number {
    let total = 0;
    for (const identity of this.#byKey.values()) total += count(identity);
    return total;
  }
}
