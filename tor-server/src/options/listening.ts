/**
 * The line each program prints once it listens, written and read here only: the bins print it,
 * and `npm start`, the tests and the benches find the ports through {@link parseListening}.
 */

/**
 * `tor-server listening on <address>:<port>, serving <absolute folder>`; with TLS on that port
 * `... <port> (TLS), serving ...`, and with a TLS listener beside it `... <port>, TLS on <port>, serving ...`.
 */
export interface TorServerListening {
  program: 'tor-server';
  host: string;
  port: number;
  dir: string;
  /** `port` speaks TLS. */
  tls?: boolean;
  /** A TLS port beside the plain `port`. */
  tlsPort?: number;
}

/** `tor-gateway listening on http://<host>:<port> (tor-server <host>:<port>)`, https:// when it serves HTTPS */
export interface GatewayListening {
  program: 'tor-gateway';
  url: string;
  /** It serves HTTPS. */
  https?: boolean;
  host: string;
  port: number;
  torHost: string;
  torPort: number;
}

export type Listening = TorServerListening | GatewayListening;

const TOR_SERVER_LINE = /^tor-server listening on (.+?):(\d+)( \(TLS\))?(?:, TLS on (\d+))?, serving (.+)$/;
const GATEWAY_LINE = /^tor-gateway listening on ((https?):\/\/(.+):(\d+)) \(tor-server (.+):(\d+)\)$/;

/** An IPv6 address in brackets, as a URL writes it; any other host as it is. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The tor-server's listening line (without the line ending). */
export function torServerListening(where: Omit<TorServerListening, 'program'>): string {
  const transport = `${where.tls ? ' (TLS)' : ''}${where.tlsPort !== undefined ? `, TLS on ${where.tlsPort}` : ''}`;
  return `tor-server listening on ${where.host}:${where.port}${transport}, serving ${where.dir}`;
}

/** The gateway's listening line (without the line ending). */
export function gatewayListening(where: Omit<GatewayListening, 'program' | 'url'>): string {
  return `tor-gateway listening on ${where.https ? 'https' : 'http'}://${urlHost(where.host)}:${where.port} (tor-server ${where.torHost}:${where.torPort})`;
}

/** What a listening line says, or undefined when `line` is not one. */
export function parseListening(line: string): Listening | undefined {
  const server = TOR_SERVER_LINE.exec(line);
  if (server) {
    const [, host, port, tls, tlsPort, dir] = server;
    return { program: 'tor-server', host: host!, port: Number(port), dir: dir!, ...(tls && { tls: true }), ...(tlsPort && { tlsPort: Number(tlsPort) }) };
  }
  const gateway = GATEWAY_LINE.exec(line);
  if (gateway) {
    const [, url, scheme, host, port, torHost, torPort] = gateway;
    return { program: 'tor-gateway', url: url!, host: host!, port: Number(port), torHost: torHost!, torPort: Number(torPort), ...(scheme === 'https' && { https: true }) };
  }
  return undefined;
}
