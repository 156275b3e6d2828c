import { parseArgs } from 'node:util';
import { DEFAULT_PORT, parseAccessLevel, type AccessLevel } from '../protocol/constants.js';

/** Everything a tor-server can be told at start. */
export interface ServerConfig {
  host: string;
  port: number;
  dir: string;
  /** Largest accepted upload, in bytes. */
  maxFileSize: number;
  /** Connections beyond this many are told so and closed. */
  maxClients: number;
  /** Connections from one address beyond this many are told so and closed. */
  maxClientsPerAddress: number;
  /** A new connection whose first command line is not complete within this long is closed. */
  firstCommandTimeoutMs: number;
  /** A connection with no command for this long is closed. */
  idleTimeoutMs: number;
  /** A transfer with no progress for this long is cut; also the window of {@link minTransferBytes}. */
  stallTimeoutMs: number;
  /** A transfer that moves fewer bytes than this in a stall-timeout window is cut. */
  minTransferBytes: number;
  /** How long SIGINT/SIGTERM lets transfers in flight finish. */
  shutdownGraceMs: number;
  logLevel: LogLevel;
  /** What clients may do: `read`, `write` (also upload) or `admin` (also delete and rename). */
  openAccess: AccessLevel;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const DEFAULTS: ServerConfig = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  dir: './tor_files',
  maxFileSize: 16 * 1024 ** 3,
  maxClients: 1000,
  maxClientsPerAddress: 64,
  firstCommandTimeoutMs: 10_000,
  idleTimeoutMs: 10 * 60_000,
  stallTimeoutMs: 60_000,
  minTransferBytes: 64 * 1024,
  shutdownGraceMs: 10_000,
  logLevel: 'info',
  openAccess: 'write',
};

const OPTIONS = {
  host: { env: 'TOR_HOST', help: 'address to listen on' },
  port: { env: 'TOR_PORT', help: 'TCP port (0 picks a free one)' },
  dir: { env: 'TOR_DIR', help: 'folder holding the files' },
  'max-file-size': { env: 'TOR_MAX_FILE_SIZE', help: 'largest upload, bytes or with K/M/G/T suffix' },
  'max-clients': { env: 'TOR_MAX_CLIENTS', help: 'most simultaneous connections' },
  'max-clients-per-address': { env: 'TOR_MAX_CLIENTS_PER_ADDRESS', help: 'most simultaneous connections from one address' },
  'first-command-timeout': { env: 'TOR_FIRST_COMMAND_TIMEOUT', help: 'seconds a new connection has to send its first command' },
  'idle-timeout': { env: 'TOR_IDLE_TIMEOUT', help: 'seconds a connection may wait between commands' },
  'stall-timeout': { env: 'TOR_STALL_TIMEOUT', help: 'seconds a transfer may make no progress' },
  'min-transfer-bytes': { env: 'TOR_MIN_TRANSFER_BYTES', help: 'bytes a transfer must move per stall-timeout window, 0 for no minimum (K/M/G suffix)' },
  'shutdown-grace': { env: 'TOR_SHUTDOWN_GRACE', help: 'seconds transfers may finish after SIGTERM' },
  'log-level': { env: 'TOR_LOG_LEVEL', help: 'debug, info, warn, error or silent' },
  'open-access': { env: 'TOR_OPEN_ACCESS', help: 'what clients may do: read, write (also upload) or admin (also delete and rename)' },
} as const;

/** The --help text. */
export function usage(): string {
  const width = Math.max(...Object.keys(OPTIONS).map((flag) => flag.length));
  const rows = Object.entries(OPTIONS).map(([flag, o]) => `  --${flag.padEnd(width)}  ${o.help} [env ${o.env}]`);
  return ['Usage: tor-server [options]', '', ...rows, `  --${'help'.padEnd(width)}  show this help`, ''].join('\n');
}

/** Thrown for a flag or variable with a value that makes no sense; the message says which. */
export class ConfigError extends Error {
  readonly code = 'TOR_ERR_CONFIG';
}

/** Reads flags, then environment variables, then defaults. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const pick = (flag: keyof typeof OPTIONS): string | undefined => {
    const value = (values as Record<string, unknown>)[flag] ?? env[OPTIONS[flag].env];
    return value === undefined || value === '' ? undefined : String(value);
  };
  const num = (flag: keyof typeof OPTIONS, fallback: number, parse: (s: string) => number | undefined, scale = 1) => {
    const text = pick(flag);
    if (text === undefined) return fallback;
    const value = parse(text);
    if (value === undefined) throw new ConfigError(`--${flag} (${OPTIONS[flag].env}): "${text}" is not a valid value`);
    return value * scale;
  };
  const level = pick('log-level') ?? DEFAULTS.logLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new ConfigError(`--log-level: "${level}" is not one of debug, info, warn, error, silent`);
  const accessText = pick('open-access') ?? DEFAULTS.openAccess;
  const openAccess = parseAccessLevel(accessText);
  if (openAccess === undefined) throw new ConfigError(`--open-access (TOR_OPEN_ACCESS): "${accessText}" is not one of read, write, admin`);
  const port = num('port', DEFAULTS.port, parseInteger);
  if (port > 65535) throw new ConfigError(`--port: ${port} is not a TCP port`);
  return {
    host: pick('host') ?? DEFAULTS.host,
    port,
    dir: pick('dir') ?? DEFAULTS.dir,
    maxFileSize: num('max-file-size', DEFAULTS.maxFileSize, parseByteSize),
    maxClients: num('max-clients', DEFAULTS.maxClients, positive(parseInteger)),
    maxClientsPerAddress: num('max-clients-per-address', DEFAULTS.maxClientsPerAddress, positive(parseInteger)),
    firstCommandTimeoutMs: num('first-command-timeout', DEFAULTS.firstCommandTimeoutMs, positive(parseSeconds), 1000),
    idleTimeoutMs: num('idle-timeout', DEFAULTS.idleTimeoutMs, positive(parseSeconds), 1000),
    stallTimeoutMs: num('stall-timeout', DEFAULTS.stallTimeoutMs, positive(parseSeconds), 1000),
    minTransferBytes: num('min-transfer-bytes', DEFAULTS.minTransferBytes, parseByteSize),
    shutdownGraceMs: num('shutdown-grace', DEFAULTS.shutdownGraceMs, parseSeconds, 1000),
    logLevel: level as LogLevel,
    openAccess,
  };
}

function parseInteger(text: string): number | undefined {
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

function parseSeconds(text: string): number | undefined {
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
}

function positive(parse: (s: string) => number | undefined) {
  return (text: string) => {
    const value = parse(text);
    return value !== undefined && value > 0 ? value : undefined;
  };
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses `1048576`, `512K`, `100M`, `16G`, `1T` (binary units, optional trailing B). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim());
  if (!match) return undefined;
  const value = Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
  return Number.isSafeInteger(value) ? value : undefined;
}
