import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from 'tor-server/protocol';
import { parseByteSize } from 'tor-server/server';
import { hostnameOfSetting } from './lib/hosts.js';

/** Everything the gateway can be told at start. */
export interface GatewayConfig {
  host: string;
  port: number;
  torHost: string;
  torPort: number;
  maxUploadSize: number;
  webDir: string;
  logLevel: string;
  /** TFTCP connections shared by every WebSocket session and listing. */
  upstreamPool: number;
  /** All TFTCP connections at once (pool, downloads, uploads); more requests wait in line. */
  maxUpstream: number;
  /** Downloads and uploads one client address may have under way (or waiting) at once. */
  maxTransfersPerAddress: number;
  /** WebSocket sessions one client address may hold. */
  maxWsPerAddress: number;
  /** WebSocket sessions in all. */
  maxWsSessions: number;
  /** Host names (besides the defaults) that requests may name in their Host header. */
  allowedHosts: string[];
  /** Origins (besides the gateway's own) whose pages may upload and open the WebSocket. */
  allowedOrigins: string[];
}

/** The gateway package folder (this file is in src/ or dist/ below it). */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export const GATEWAY_DEFAULTS: GatewayConfig = {
  host: '0.0.0.0',
  port: 8080,
  torHost: '127.0.0.1',
  torPort: DEFAULT_PORT,
  maxUploadSize: 16 * 1024 ** 3,
  webDir: path.resolve(PACKAGE_DIR, '../web/dist'),
  logLevel: 'warn',
  upstreamPool: 16,
  // Below the tor-server's default limit of 64 connections per address, with room for a probe.
  maxUpstream: 48,
  maxTransfersPerAddress: 16,
  maxWsPerAddress: 32,
  maxWsSessions: 10_000,
  allowedHosts: [],
  allowedOrigins: [],
};

const OPTIONS = {
  host: { env: 'GATEWAY_HOST', help: 'address to listen on' },
  port: { env: 'GATEWAY_PORT', help: 'HTTP port (0 picks a free one)' },
  'tor-host': { env: 'TOR_HOST', help: 'tor-server address' },
  'tor-port': { env: 'TOR_PORT', help: 'tor-server port' },
  'max-upload-size': { env: 'GATEWAY_MAX_UPLOAD_SIZE', help: 'largest upload, bytes or with K/M/G/T suffix' },
  'web-dir': { env: 'GATEWAY_WEB_DIR', help: 'the built web app' },
  'log-level': { env: 'GATEWAY_LOG_LEVEL', help: 'fatal, error, warn, info, debug, trace or silent' },
  'upstream-pool': { env: 'GATEWAY_UPSTREAM_POOL', help: 'tor-server connections shared by all WebSocket sessions' },
  'max-upstream': { env: 'GATEWAY_MAX_UPSTREAM', help: 'tor-server connections in all; more requests wait' },
  'max-transfers-per-address': { env: 'GATEWAY_MAX_TRANSFERS_PER_ADDRESS', help: 'downloads and uploads at once per client address; more get 429' },
  'max-ws-per-address': { env: 'GATEWAY_MAX_WS_PER_ADDRESS', help: 'WebSocket sessions per client address' },
  'max-ws-sessions': { env: 'GATEWAY_MAX_WS_SESSIONS', help: 'WebSocket sessions in all' },
  'allowed-hosts': { env: 'GATEWAY_ALLOWED_HOSTS', help: 'more host names browsers may use, comma-separated' },
  'allowed-origins': { env: 'GATEWAY_ALLOWED_ORIGINS', help: 'more origins that may upload, comma-separated' },
} as const;

type Flag = keyof typeof OPTIONS;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The --help text. */
export function gatewayUsage(): string {
  const width = Math.max(...Object.keys(OPTIONS).map((flag) => flag.length));
  const rows = Object.entries(OPTIONS).map(([flag, o]) => `  --${flag.padEnd(width)} ${o.help} [env ${o.env}]`);
  return ['Usage: tor-gateway [options]', '', ...rows, `  --${'help'.padEnd(width)} show this help`, ''].join('\n');
}

/** A flag or variable with a value that makes no sense; the message says which. */
export class GatewayConfigError extends Error {
  readonly code = 'GW_ERR_CONFIG';
}

/** Reads flags, then environment variables, then defaults. */
export function parseGatewayConfig(argv: string[], env: NodeJS.ProcessEnv): GatewayConfig | 'help' {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new GatewayConfigError((error as Error).message);
  }
  if (values.help) return 'help';
  const pick = (flag: Flag): string | undefined => {
    const value = values[flag] ?? env[OPTIONS[flag].env];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const invalid = (flag: Flag, text: string, why = 'is not a valid value') => new GatewayConfigError(`--${flag} (${OPTIONS[flag].env}): "${text}" ${why}`);
  const port = (flag: Flag, fallback: number) => {
    const text = pick(flag);
    if (text === undefined) return fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw invalid(flag, text);
    return Number(text);
  };
  const count = (flag: Flag, fallback: number) => {
    const text = pick(flag);
    if (text === undefined) return fallback;
    if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw invalid(flag, text, 'is not a whole number of at least 1');
    return Number(text);
  };
  const list = (flag: Flag, check: (item: string) => string) => {
    const text = pick(flag);
    if (text === undefined) return [];
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => {
        try {
          return check(item);
        } catch (error) {
          throw invalid(flag, item, (error as Error).message);
        }
      });
  };
  const sizeText = pick('max-upload-size');
  const maxUploadSize = sizeText === undefined ? GATEWAY_DEFAULTS.maxUploadSize : parseByteSize(sizeText);
  if (maxUploadSize === undefined) throw invalid('max-upload-size', sizeText!);
  const logLevel = pick('log-level') ?? GATEWAY_DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new GatewayConfigError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const webDir = pick('web-dir');
  const upstreamPool = count('upstream-pool', GATEWAY_DEFAULTS.upstreamPool);
  const maxUpstream = count('max-upstream', GATEWAY_DEFAULTS.maxUpstream);
  if (upstreamPool > maxUpstream) {
    throw new GatewayConfigError(`--upstream-pool (${upstreamPool}) must not be larger than --max-upstream (${maxUpstream}): the pool's connections count toward it`);
  }
  return {
    host: pick('host') ?? GATEWAY_DEFAULTS.host,
    port: port('port', GATEWAY_DEFAULTS.port),
    torHost: pick('tor-host') ?? GATEWAY_DEFAULTS.torHost,
    torPort: port('tor-port', GATEWAY_DEFAULTS.torPort),
    maxUploadSize,
    webDir: webDir === undefined ? GATEWAY_DEFAULTS.webDir : path.resolve(webDir),
    logLevel,
    upstreamPool,
    maxUpstream,
    maxTransfersPerAddress: count('max-transfers-per-address', GATEWAY_DEFAULTS.maxTransfersPerAddress),
    maxWsPerAddress: count('max-ws-per-address', GATEWAY_DEFAULTS.maxWsPerAddress),
    maxWsSessions: count('max-ws-sessions', GATEWAY_DEFAULTS.maxWsSessions),
    allowedHosts: list('allowed-hosts', parseHostName),
    allowedOrigins: list('allowed-origins', parseOrigin),
  };
}

/** A host name or address as `--allowed-hosts` takes it (a port, if given, is ignored): lower case, IPv6 in brackets. */
export function parseHostName(text: string): string {
  const name = hostnameOfSetting(text);
  if (name === undefined) throw new Error('is not a host name or address');
  return name;
}

/** A full origin as `--allowed-origins` takes it: scheme, host and port, nothing else. */
export function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('is not an origin such as https://files.example.org');
  }
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !text.endsWith('/');
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
    throw new Error('is not an origin such as https://files.example.org (scheme, host and port only)');
  }
  return url.origin;
}
