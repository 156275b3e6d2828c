import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

// An IPv4 client of a dual-stack (`::`) listener shows up as `::ffff:1.2.3.4`.
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address a client connects from, an IPv4-mapped IPv6 address written as the IPv4 address it is. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '?';
  return IPV4_MAPPED.exec(remoteAddress)?.[1] ?? remoteAddress;
}

/** How a host name of --trusted-proxies is resolved: every address it has (a compose service may have several). */
export type ResolveAll = (host: string) => Promise<string[]>;

const defaultResolve: ResolveAll = async (host) => (await lookup(host, { all: true })).map((found) => found.address);

// RFC 1123 host names: letters, digits and hyphens in dot-separated labels.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** One --trusted-proxies entry: an IP address, a CIDR range or a host name. */
export type ProxyEntry = { kind: 'address' | 'range'; address: string; prefix: number } | { kind: 'host'; host: string };

/**
 * Reads one --trusted-proxies entry: `10.0.0.5`, `172.16.0.0/12`, `fd00::/8` or a host name
 * (`gateway`, resolved at start and on SIGHUP); throws a message saying what it is not.
 */
export function parseProxyEntry(text: string): ProxyEntry {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if (family !== 0 && extra === undefined) {
    const bits = family === 4 ? 32 : 128;
    if (prefixText === undefined) return { kind: 'address', address: clientAddress(address), prefix: bits };
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) throw new Error(`has a prefix length outside 0-${bits}`);
    return { kind: 'range', address, prefix };
  }
  if (prefixText === undefined && HOST_NAME.test(text)) return { kind: 'host', host: text.toLowerCase() };
  throw new Error('is not an IP address, a CIDR range (172.16.0.0/12) or a host name');
}

/**
 * The gateways a tor-server trusts to name their users' addresses: addresses, ranges and the
 * addresses host names resolved to (at start and on each `resolve()`, so a container that
 * comes back with a new address is trusted again after a SIGHUP).
 */
export class TrustedProxies {
  readonly #entries: ProxyEntry[];
  readonly #resolve: ResolveAll;
  #list = new BlockList();
  #empty: boolean;

  constructor(entries: readonly string[], resolve: ResolveAll = defaultResolve) {
    this.#entries = entries.map(parseProxyEntry);
    this.#resolve = resolve;
    this.#empty = this.#entries.length === 0;
    this.#list = this.#build([]);
  }

  /** True when some entry is a host name, which `resolve()` looks up. */
  get hasHostNames(): boolean {
    return this.#entries.some((entry) => entry.kind === 'host');
  }

  /** True when `address` (as clientAddress writes it) is a trusted proxy. */
  has(address: string): boolean {
    if (this.#empty) return false;
    const family = isIP(address);
    return family !== 0 && this.#list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Looks the host names up again and trusts what they resolve to now (and what the other
   * entries say). Resolves with a problem per name that could not be looked up; those names
   * keep no address until the next call.
   */
  async resolve(): Promise<string[]> {
    const problems: string[] = [];
    const resolved: string[] = [];
    for (const entry of this.#entries) {
      if (entry.kind !== 'host') continue;
      try {
        resolved.push(...(await this.#resolve(entry.host)).map((address) => clientAddress(address)));
      } catch (error) {
        problems.push(`${entry.host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    this.#list = this.#build(resolved);
    return problems;
  }

  #build(resolved: readonly string[]): BlockList {
    const list = new BlockList();
    for (const entry of this.#entries) {
      if (entry.kind === 'host') continue;
      const type = isIP(entry.address) === 4 ? 'ipv4' : 'ipv6';
      if (entry.kind === 'address') list.addAddress(entry.address, type);
      else list.addSubnet(entry.address, entry.prefix, type);
    }
    for (const address of resolved) list.addAddress(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
    return list;
  }
}
