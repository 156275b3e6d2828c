import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORT } from 'tor-server/protocol';
import { ConfigError, InvalidValue, byteSize, checkTlsPair, count, defaults, list, metricsOptions, oneOf, option, parseOptions, port, text, tlsServerOptions, usage, yesNo, type OptionValues } from 'tor-server/options';
import { hostnameOfSetting } from './lib/hosts.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The program's name, at the start of its messages. */
export const GATEWAY_PROGRAM = 'tor-gateway';
const CONFIG_ERROR_CODE = 'GW_ERR_CONFIG';

/** The gateway package folder (this file is in src/ or dist/ below it). */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Everything the gateway can be told at start: one row a flag. */
const GATEWAY_OPTIONS = {
  host: option({ flag: 'host', env: 'GATEWAY_HOST', help: 'address to listen on', parse: text, default: '0.0.0.0' }),
  port: option({ flag: 'port', env: 'GATEWAY_PORT', help: 'HTTP port (0 picks a free one)', parse: port, default: 8080 }),
  torHost: option({ flag: 'tor-host', env: 'TOR_HOST', help: 'tor-server address', parse: text, default: '127.0.0.1' }),
  torPort: option({ flag: 'tor-port', env: 'TOR_PORT', help: 'tor-server port', parse: port, default: DEFAULT_PORT }),
  /** Speak TLS to the tor-server (it runs with --tls-cert), checking its certificate against the system's CAs or --tor-ca. */
  torTls: option({ flag: 'tor-tls', env: 'TOR_TLS', help: "speak TLS to the tor-server, checking its certificate against the system's CAs", parse: yesNo, default: false, switch: true }),
  torCa: option<string | undefined>({
    flag: 'tor-ca',
    env: 'TOR_CA',
    help: "PEM file of the CA (or self-signed certificate) to trust for the tor-server's certificate; implies --tor-tls",
    parse: (file) => path.resolve(file),
    default: undefined,
  }),
  ...tlsServerOptions('GATEWAY', 'HTTPS'),
  maxUploadSize: option({ flag: 'max-upload-size', env: 'GATEWAY_MAX_UPLOAD_SIZE', help: 'largest upload, bytes or with K/M/G/T suffix', parse: byteSize, default: 16 * 1024 ** 3 }),
  webDir: option({ flag: 'web-dir', env: 'GATEWAY_WEB_DIR', help: 'the built web app', parse: (dir) => path.resolve(dir), default: path.resolve(PACKAGE_DIR, '../web/dist') }),
  logLevel: option({ flag: 'log-level', env: 'GATEWAY_LOG_LEVEL', help: 'fatal, error, warn, info, debug, trace or silent', parse: oneOf(LOG_LEVELS), default: 'warn' }),
  /** TFTCP connections shared by every WebSocket session and listing. */
  upstreamPool: option({ flag: 'upstream-pool', env: 'GATEWAY_UPSTREAM_POOL', help: "tor-server connections shared by one user's WebSocket sessions and listings (one user: one token, or everyone in open mode)", parse: count, default: 16 }),
  /**
   * All TFTCP connections at once (pool, downloads, uploads); more requests wait in line. The
   * default stays below the tor-server's default limit of 64 connections per address, with room for a probe.
   */
  maxUpstream: option({ flag: 'max-upstream', env: 'GATEWAY_MAX_UPSTREAM', help: 'tor-server connections in all; more requests wait', parse: count, default: 48 }),
  /** Downloads and uploads one client address may have under way (or waiting) at once. */
  maxTransfersPerAddress: option({ flag: 'max-transfers-per-address', env: 'GATEWAY_MAX_TRANSFERS_PER_ADDRESS', help: 'downloads, uploads and digests (?hash=sha256) at once per client address; more get 429', parse: count, default: 16 }),
  /** WebSocket sessions one client address may hold. */
  maxWsPerAddress: option({ flag: 'max-ws-per-address', env: 'GATEWAY_MAX_WS_PER_ADDRESS', help: 'WebSocket sessions per client address', parse: count, default: 32 }),
  /** WebSocket sessions in all. */
  maxWsSessions: option({ flag: 'max-ws-sessions', env: 'GATEWAY_MAX_WS_SESSIONS', help: 'WebSocket sessions in all', parse: count, default: 10_000 }),
  /** Host names (besides the defaults) that requests may name in their Host header. */
  allowedHosts: option({ flag: 'allowed-hosts', env: 'GATEWAY_ALLOWED_HOSTS', help: 'more host names browsers may use, comma-separated', parse: list(parseHostName), default: [] }),
  /** Origins (besides the gateway's own) whose pages may upload and open the WebSocket. */
  allowedOrigins: option({ flag: 'allowed-origins', env: 'GATEWAY_ALLOWED_ORIGINS', help: 'more origins that may upload, comma-separated', parse: list(parseOrigin), default: [] }),
  ...metricsOptions('GATEWAY'),
};

/** Everything the gateway can be told at start. */
export type GatewayConfig = OptionValues<typeof GATEWAY_OPTIONS>;

export const GATEWAY_DEFAULTS: GatewayConfig = defaults(GATEWAY_OPTIONS);

/** A flag or variable with a value that makes no sense (code `GW_ERR_CONFIG`); the message says which. */
export { ConfigError as GatewayConfigError } from 'tor-server/options';

/** The --help text. */
export function gatewayUsage(): string {
  return usage(GATEWAY_PROGRAM, GATEWAY_OPTIONS);
}

/** Reads flags, then environment variables, then defaults; a bad value throws GatewayConfigError naming the flag. */
export function parseGatewayConfig(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig | 'help' {
  const config = parseOptions(GATEWAY_OPTIONS, argv, env, CONFIG_ERROR_CODE);
  if (config === 'help') return config;
  checkTlsPair(config, CONFIG_ERROR_CODE);
  if (config.upstreamPool > config.maxUpstream) {
    throw new ConfigError(
      `--upstream-pool (${config.upstreamPool}) must not be larger than --max-upstream (${config.maxUpstream}): the pool's connections count toward it`,
      CONFIG_ERROR_CODE,
    );
  }
  return config;
}

/** A host name or address as `--allowed-hosts` takes it (a port, if given, is ignored): lower case, IPv6 in brackets. */
export function parseHostName(text: string): string {
  const name = hostnameOfSetting(text);
  if (name === undefined) throw new InvalidValue('is not a host name or address');
  return name;
}

/** A full origin as `--allowed-origins` takes it: scheme, host and port, nothing else. */
export function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidValue('is not an origin such as https://files.example.org');
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !text.endsWith('/');
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
    throw new InvalidValue('is not an origin such as https://files.example.org (scheme, host and port only)');
  }
  return url.origin;
}
