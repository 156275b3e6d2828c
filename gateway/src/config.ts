import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_PORT } from 'tor-server/protocol';
import { parseByteSize } from 'tor-server/server';

/** Everything the gateway can be told at start. */
export interface GatewayConfig {
  host: string;
  port: number;
  torHost: string;
  torPort: number;
  maxUploadSize: number;
  webDir: string;
  logLevel: string;
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
};

const OPTIONS = {
  host: { env: 'GATEWAY_HOST', help: 'address to listen on' },
  port: { env: 'GATEWAY_PORT', help: 'HTTP port (0 picks a free one)' },
  'tor-host': { env: 'TOR_HOST', help: 'tor-server address' },
  'tor-port': { env: 'TOR_PORT', help: 'tor-server port' },
  'max-upload-size': { env: 'GATEWAY_MAX_UPLOAD_SIZE', help: 'largest upload, bytes or with K/M/G/T suffix' },
  'web-dir': { env: 'GATEWAY_WEB_DIR', help: 'the built web app' },
  'log-level': { env: 'GATEWAY_LOG_LEVEL', help: 'fatal, error, warn, info, debug, trace or silent' },
} as const;

type Flag = keyof typeof OPTIONS;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The --help text. */
export function gatewayUsage(): string {
  const rows = Object.entries(OPTIONS).map(([flag, o]) => `  --${flag.padEnd(17)} ${o.help} [env ${o.env}]`);
  return ['Usage: tor-gateway [options]', '', ...rows, '  --help              show this help', ''].join('\n');
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
  const invalid = (flag: Flag, text: string) => new GatewayConfigError(`--${flag} (${OPTIONS[flag].env}): "${text}" is not a valid value`);
  const port = (flag: Flag, fallback: number) => {
    const text = pick(flag);
    if (text === undefined) return fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw invalid(flag, text);
    return Number(text);
  };
  const sizeText = pick('max-upload-size');
  const maxUploadSize = sizeText === undefined ? GATEWAY_DEFAULTS.maxUploadSize : parseByteSize(sizeText);
  if (maxUploadSize === undefined) throw invalid('max-upload-size', sizeText!);
  const logLevel = pick('log-level') ?? GATEWAY_DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new GatewayConfigError(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const webDir = pick('web-dir');
  return {
    host: pick('host') ?? GATEWAY_DEFAULTS.host,
    port: port('port', GATEWAY_DEFAULTS.port),
    torHost: pick('tor-host') ?? GATEWAY_DEFAULTS.torHost,
    torPort: port('tor-port', GATEWAY_DEFAULTS.torPort),
    maxUploadSize,
    webDir: webDir === undefined ? GATEWAY_DEFAULTS.webDir : path.resolve(webDir),
    logLevel,
  };
}
