import { ACCESS_LEVELS, DEFAULT_PORT } from '../protocol/constants.js';
import { AUTH_MODES } from './auth/authority.js';
import { TOKEN_USAGE } from './auth/token-admin.js';
import { isIP } from 'node:net';
import { ConfigError, InvalidValue, byteSize, count, defaults, list, metricsOptions, oneOf, option, parseOptions, port, seconds, text, usage as usageOf, type OptionValues } from '../options/index.js';
import { checkStoreOptions, storeOptions } from '../options/store.js';
import { checkTlsPair, tlsServerOptions } from '../options/tls.js';
import { clientAddress, parseProxyEntry } from './client-address.js';

export { ConfigError, parseByteSize } from '../options/index.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The program's name, at the start of its messages. */
export const SERVER_PROGRAM = 'tor-server';
const CONFIG_ERROR_CODE = 'TOR_ERR_CONFIG';

/**
 * A --trusted-proxies entry: an IP address as a socket reports it (IPv4 as such, IPv6 in its
 * canonical form), a CIDR range, or a host name (resolved at start and on SIGHUP).
 */
function proxyEntry(value: string): string {
  if (isIP(value) === 0) {
    try {
      parseProxyEntry(value);
    } catch (error) {
      throw new InvalidValue(`${(error as Error).message} (a trusted proxy is named by the address it connects from)`);
    }
    return value;
  }
  const address = clientAddress(value);
  return isIP(address) === 6 ? new URL(`http://[${address}]`).hostname.slice(1, -1) : address;
}

/** Everything a tor-server can be told at start: one row a flag. */
const SERVER_OPTIONS = {
  host: option({ flag: 'host', env: 'TOR_HOST', help: 'address to listen on', parse: text, default: '0.0.0.0' }),
  port: option({ flag: 'port', env: 'TOR_PORT', help: 'TCP port (0 picks a free one)', parse: port, default: DEFAULT_PORT }),
  dir: option({ flag: 'dir', env: 'TOR_DIR', help: 'folder holding the files', parse: text, default: './tor_files' }),
  /** Largest accepted upload, in bytes. */
  maxFileSize: option({ flag: 'max-file-size', env: 'TOR_MAX_FILE_SIZE', help: 'largest upload, bytes or with K/M/G/T suffix', parse: byteSize, default: 16 * 1024 ** 3 }),
  /** Connections beyond this many are told so and closed. */
  maxClients: option({ flag: 'max-clients', env: 'TOR_MAX_CLIENTS', help: 'most simultaneous connections', parse: count, default: 1000 }),
  /** Connections from one address beyond this many are told so and closed. */
  maxClientsPerAddress: option({ flag: 'max-clients-per-address', env: 'TOR_MAX_CLIENTS_PER_ADDRESS', help: 'most simultaneous connections from one address', parse: count, default: 64 }),
  /** A new connection whose first command line is not complete within this long is closed. */
  firstCommandTimeoutMs: option({ flag: 'first-command-timeout', env: 'TOR_FIRST_COMMAND_TIMEOUT', help: 'seconds a new connection has to send its first command', parse: seconds({ above0: true }), default: 10_000 }),
  /** A connection with no command for this long is closed. */
  idleTimeoutMs: option({ flag: 'idle-timeout', env: 'TOR_IDLE_TIMEOUT', help: 'seconds a connection may wait between commands', parse: seconds({ above0: true }), default: 10 * 60_000 }),
  /** A transfer with no progress for this long is cut; also the window of `minTransferBytes`. */
  stallTimeoutMs: option({ flag: 'stall-timeout', env: 'TOR_STALL_TIMEOUT', help: 'seconds a transfer may make no progress', parse: seconds({ above0: true }), default: 60_000 }),
  /** A transfer that moves fewer bytes than this in a stall-timeout window is cut. */
  minTransferBytes: option({ flag: 'min-transfer-bytes', env: 'TOR_MIN_TRANSFER_BYTES', help: 'bytes a transfer must move per stall-timeout window, 0 for no minimum (K/M/G suffix)', parse: byteSize, default: 64 * 1024 }),
  /** How long SIGINT/SIGTERM lets transfers in flight finish. */
  shutdownGraceMs: option({ flag: 'shutdown-grace', env: 'TOR_SHUTDOWN_GRACE', help: 'seconds transfers may finish after SIGTERM', parse: seconds({ above0: false }), default: 10_000 }),
  logLevel: option({ flag: 'log-level', env: 'TOR_LOG_LEVEL', help: 'debug, info, warn, error or silent', parse: oneOf(LOG_LEVELS), default: 'info' }),
  /** What clients may do: `read`, `write` (also upload) or `admin` (also delete and rename). */
  openAccess: option({ flag: 'open-access', env: 'TOR_OPEN_ACCESS', help: 'what clients may do: read, write (also upload) or admin (also delete and rename)', parse: oneOf(ACCESS_LEVELS), default: 'write' }),
  ...tlsServerOptions('TOR', 'TFTCP'),
  /** With a certificate: a second listener for TLS, so plain and TLS clients are served side by side. */
  tlsPort: option<number | undefined>({
    flag: 'tls-port',
    env: 'TOR_TLS_PORT',
    help: 'serve TLS on this port and plain TFTCP on --port (without it, --port itself speaks TLS)',
    parse: port,
    default: undefined,
  }),
  /** Where tokens are kept (never inside the served folder). */
  stateDir: option({ flag: 'state-dir', env: 'TOR_STATE_DIR', help: 'folder for the token file, outside the served folder', parse: text, default: './tor-state' }),
  /** When clients must sign in with a token. */
  auth: option({ flag: 'auth', env: 'TOR_AUTH', help: 'auto (sign-in required once a token exists), required or open', parse: oneOf(AUTH_MODES), default: 'auto' }),
  /** Gateways: their own connection limit, and they may name the end user's address with `client`. */
  trustedProxies: option({ flag: 'trusted-proxies', env: 'TOR_TRUSTED_PROXIES', help: 'comma-separated addresses, CIDR ranges or host names of gateways that may name their users\' addresses', parse: list(proxyEntry), default: [] as string[] }),
  maxClientsPerProxy: option({ flag: 'max-clients-per-proxy', env: 'TOR_MAX_CLIENTS_PER_PROXY', help: 'most simultaneous connections from one trusted proxy', parse: count, default: 512 }),
  /** A resumable upload with no activity for this long is deleted. */
  partialTtlMs: option({ flag: 'partial-ttl', env: 'TOR_PARTIAL_TTL', help: 'seconds an unfinished resumable upload is kept after its last activity', parse: seconds({ above0: true }), default: 24 * 3600_000 }),
  /** Resumable uploads one owner may have unfinished at once. */
  maxPartialsPerOwner: option({ flag: 'max-partials-per-owner', env: 'TOR_MAX_PARTIALS_PER_OWNER', help: 'most unfinished resumable uploads per owner', parse: count, default: 16 }),
  ...storeOptions(),
  ...metricsOptions('TOR'),
};

/** Everything a tor-server can be told at start. */
export type ServerConfig = OptionValues<typeof SERVER_OPTIONS>;

export const DEFAULTS: ServerConfig = defaults(SERVER_OPTIONS);

/** The --help text: the options, then the token subcommands. */
export function usage(): string {
  return `${usageOf(SERVER_PROGRAM, SERVER_OPTIONS)}\nSubcommands (on the tokens of --state-dir, also while a server runs on it):\n${TOKEN_USAGE}\n`;
}

/** The words that start a token subcommand instead of a server. */
export const ADMIN_SUBCOMMANDS = ['token', 'share'];

/**
 * A token subcommand's words and its state folder: `--state-dir` may come anywhere among the
 * words, else TOR_STATE_DIR, else the default.
 */
export function parseAdminArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { words: string[]; stateDir: string } {
  const words: string[] = [];
  let stateDir = env.TOR_STATE_DIR || DEFAULTS.stateDir;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--state-dir' && i + 1 < argv.length) stateDir = argv[++i]!;
    else if (word.startsWith('--state-dir=')) stateDir = word.slice('--state-dir='.length);
    else words.push(word);
  }
  return { words, stateDir };
}

/** Reads flags, then environment variables, then defaults; a bad value throws ConfigError naming the flag. */
export function parseServerConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const config = parseOptions(SERVER_OPTIONS, argv, env, CONFIG_ERROR_CODE);
  if (config === 'help') return config;
  checkTlsPair(config, CONFIG_ERROR_CODE);
  checkStoreOptions(config, CONFIG_ERROR_CODE);
  if (config.tlsPort !== undefined && config.tlsCert === undefined) {
    throw new ConfigError('--tls-port needs a certificate to serve: give --tls-cert and --tls-key too', CONFIG_ERROR_CODE);
  }
  if (config.tlsPort !== undefined && config.tlsPort === config.port && config.port !== 0) {
    throw new ConfigError('--tls-port must differ from --port: leave it out and --port itself speaks TLS', CONFIG_ERROR_CODE);
  }
  return config;
}
