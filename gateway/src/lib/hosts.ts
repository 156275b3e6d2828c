import os from 'node:os';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { GatewayError } from '../errors.js';

/** Names every gateway answers to, wherever it listens. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** Listen addresses that mean "every interface of this machine". */
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]', '']);
/** Allowed Host headers remembered as sent (hostname and port); more and the memory starts again. */
const MAX_REMEMBERED_HOST_HEADERS = 64;

/**
 * The host name in a Host header (`name`, `name:port`, `[v6]:port`), lower case, IPv6 in
 * brackets, a trailing dot dropped; undefined when there is none or it is not a host.
 */
export function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${hostHeader}`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || `${url.host}` === '') return undefined;
  return url.hostname.replace(/\.$/, '');
}

/**
 * A host name or address as an operator writes it (`--allowed-hosts`, `--host`): like
 * hostnameOf, and a bare IPv6 address (two colons or more) gets the brackets a Host header
 * would carry.
 */
export function hostnameOfSetting(text: string): string | undefined {
  return hostnameOf(!text.startsWith('[') && text.split(':').length > 2 ? `[${text}]` : text);
}

/**
 * The names a gateway listening on `listenHost` answers to: loopback, and the listen address
 * itself, or for 0.0.0.0 / :: every interface address of the machine and its host name.
 */
export function defaultAllowedHosts(listenHost: string): string[] {
  const names = [...LOOPBACK_NAMES];
  if (WILDCARD_ADDRESSES.has(listenHost)) {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const { address, family } of addresses ?? []) names.push(family === 'IPv6' ? `[${address}]` : address);
    }
    names.push(os.hostname());
  } else {
    names.push(listenHost);
  }
  return names.map((name) => hostnameOfSetting(name)).filter((name): name is string => name !== undefined);
}

/**
 * Which Host headers the gateway answers. A page on another site that re-points its own DNS
 * name at this machine (DNS rebinding) would send its own name as the Host, so everything
 * not named here gets 421 Misdirected Request and reaches no route.
 */
export class HostPolicy {
  readonly #names: ReadonlySet<string>;
  /**
   * Host headers already allowed, as sent: a client sends the same one on every request, and
   * parsing it as a URL was a noticeable part of answering a small file. Bounded, since every
   * port of an allowed name is allowed too.
   */
  readonly #allowedHeaders = new Set<string>();

  constructor(names: Iterable<string>) {
    this.#names = new Set([...names].map((name) => hostnameOf(name) ?? name.toLowerCase()));
  }

  /** The allowed names, for messages and tests. */
  get names(): string[] {
    return [...this.#names];
  }

  /** True when a request with this Host header may be served (any port). */
  allows(hostHeader: string | undefined): boolean {
    if (hostHeader !== undefined && this.#allowedHeaders.has(hostHeader)) return true;
    const name = hostnameOf(hostHeader);
    if (name === undefined || !this.#names.has(name)) return false;
    if (this.#allowedHeaders.size >= MAX_REMEMBERED_HOST_HEADERS) this.#allowedHeaders.clear();
    this.#allowedHeaders.add(hostHeader!);
    return true;
  }

  /** Fastify onRequest hook answering 421 to requests for any other host, before any route runs. */
  hook(): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
    // A callback hook, not an async one: no promise per request.
    return (request, _reply, done) => {
      const host = request.headers.host;
      if (this.allows(host)) return done();
      const shown = host === undefined ? 'no Host header' : `the host "${host.slice(0, 100)}"`;
      done(new GatewayError('GW_ERR_MISDIRECTED', `this gateway does not serve ${shown}; open it by one of its own names, or add the name to --allowed-hosts (GATEWAY_ALLOWED_HOSTS)`));
    };
  }
}
