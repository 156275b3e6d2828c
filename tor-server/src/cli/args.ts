import { parseArgs } from 'node:util';
import { yesNo as parseYesNo } from '../options/parsers.js';
import { RESUMABLE_THRESHOLD } from './resumable-upload.js';

/** The tor-client command line. */
export interface CliOptions {
  host?: string;
  port?: number;
  /** Folder that holds `tor-files/`. */
  home: string;
  /** Print listings as tab-separated rows instead of a table. */
  tsv: boolean;
  /** Check every download against the server's sha256. */
  verify: boolean;
  /** Speak TLS: with a CA file to trust, or insecure (no check of the server's certificate). */
  tls: { caFile?: string; insecure: boolean } | undefined;
  help: boolean;
  /** The token to sign in with right after connecting. */
  token?: string;
  /** Connections a large upload uses at once. */
  parallel: number;
  /** One-shot command words (empty: interactive prompt). */
  command: string[];
}

/** Connections a large upload uses at once when neither --parallel nor TOR_PARALLEL says. */
export const DEFAULT_PARALLEL = 4;
/** The most connections one upload may use: each holds a part in memory and a server slot. */
export const MAX_PARALLEL = 16;

/** The size above which an upload is resumable, as the help text says it. */
const THRESHOLD_TEXT = `${RESUMABLE_THRESHOLD / (1024 * 1024)} MiB`;

/** Thrown for a command line that makes no sense; the message says what to fix. */
export class UsageError extends Error {
  readonly code = 'TOR_ERR_USAGE';
}

/** The --help text. */
export function cliUsage(): string {
  return `Usage: tor-client [--host HOST] [--port PORT] [--tls [--ca FILE | --insecure]] [--token TOKEN] [--home DIR] [--tsv] [--verify] [--parallel N] [COMMAND [ARGUMENT...]]

Talks to a tor-server. Without a COMMAND it opens a prompt (>> ); with one it runs it and exits
(0 on success, 1 when the server refuses, 2 for a usage error, 3 when the connection fails,
130 when cancelled with Ctrl-C).

Ctrl-C cancels the transfer in progress: a download keeps what arrived (run it again to
resume); an upload of a file up to ${THRESHOLD_TEXT} is abandoned and the server stores nothing, a larger
one keeps what the server stored (run it again to resume). At an idle prompt it exits.

Commands:
  show               list every file on the server
  search TEXT        list the files whose name contains TEXT
  download NAME      download NAME into tor-files/Downloads (resumes an interrupted download)
  download --verify NAME
                     download, then check the bytes against the server's sha256 ("verified
                     sha256 ..."); on a mismatch nothing is saved and the status is 1
  upload NAME        upload tor-files/Uploads/NAME (or a path to a file); a file over ${THRESHOLD_TEXT} goes
                     in parts over --parallel connections, resumes after a cut, a Ctrl-C or a
                     restart when run again ("resuming at 41%"), and is checked against the
                     server's sha256 at the end ("verified sha256 ...")
  info NAME          the file's size and last change
  hash NAME          the file's sha256, computed by the server
  rename OLD NEW     give a file a new name, never over another (needs admin access)
  delete NAME        delete a file on the server (needs admin access)
  watch              print every change on the server as it happens, until Ctrl-C
  auth TOKEN         sign in with a token (prompt; from the command line use --token)
  share NAME [--expires 7d] [--max-downloads N]
                     make a share link: a token that reads NAME only (needs write access)
  share list         your share links, with expiry and downloads
  share revoke ID    revoke a share link
  exit               sign out (prompt only)
  help               this text

Options:
  --host HOST        server address [env TOR_HOST]; asked for when missing at a terminal
  --port PORT        server port, default 7777 [env TOR_PORT]; asked for when missing at a terminal
  --tls              speak TLS to the server, checking its certificate against the system's
                     CAs [env TOR_TLS=1]
  --ca FILE          trust the CA certificate(s) in this PEM file instead (a team's own CA, or
                     the server's self-signed certificate); implies --tls [env TOR_CA]
  --insecure         TLS without checking the server's certificate: encrypted, but anyone in
                     between can pretend to be the server; implies --tls
  --token TOKEN      sign in with this token right after connecting [env TOR_TOKEN]
  --home DIR         where tor-files/ lives, default the current folder
  --tsv              print listings as name<TAB>size<TAB>modified rows
  --verify           verify every download against the server's sha256
  --parallel N       connections an upload over ${THRESHOLD_TEXT} uses at once, 1-${MAX_PARALLEL}, default
                     ${DEFAULT_PARALLEL} [env TOR_PARALLEL]

A name with spaces may be written as it is (download my file.txt) or in quotes; rename needs
quotes around a name with spaces: rename "old name.txt" "new name.txt".
`;
}

/** Parses flags (then TOR_HOST/TOR_PORT/TOR_TOKEN/TOR_PARALLEL) and the optional one-shot command. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        home: { type: 'string' },
        token: { type: 'string' },
        tsv: { type: 'boolean', default: false },
        verify: { type: 'boolean', default: false },
        parallel: { type: 'string' },
        tls: { type: 'boolean', default: false },
        ca: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const portText = values.port ?? env.TOR_PORT;
  return {
    host: values.host ?? (env.TOR_HOST || undefined),
    port: portText === undefined || portText === '' ? undefined : parsePort(portText),
    home: values.home ?? '.',
    tsv: values.tsv ?? false,
    verify: values.verify ?? false,
    tls: tlsChoice(values, env),
    help: values.help ?? false,
    token: values.token ?? (env.TOR_TOKEN || undefined),
    parallel: parseParallel(values.parallel ?? (env.TOR_PARALLEL || undefined)),
    command: positionals,
  };
}

/** TLS when asked for by --tls, --ca, --insecure, TOR_TLS or TOR_CA; undefined for plain TCP. */
function tlsChoice(values: { tls?: boolean; ca?: string; insecure?: boolean }, env: NodeJS.ProcessEnv): CliOptions['tls'] {
  const caFile = values.ca ?? (env.TOR_CA || undefined);
  const envTls = env.TOR_TLS === undefined || env.TOR_TLS === '' ? false : yesNo(env.TOR_TLS);
  if (caFile !== undefined && values.insecure) throw new UsageError('--ca and --insecure contradict each other: --ca checks the certificate against that CA, --insecure checks nothing');
  if (!values.tls && !envTls && caFile === undefined && !values.insecure) return undefined;
  return { ...(caFile !== undefined && { caFile }), insecure: values.insecure ?? false };
}

function yesNo(value: string): boolean {
  try {
    return parseYesNo(value);
  } catch {
    throw new UsageError(`TOR_TLS="${value}" is not one of 1, true, yes, on, 0, false, no, off`);
  }
}

/** Parses --parallel (or TOR_PARALLEL): a whole number of connections, 1 to MAX_PARALLEL. */
function parseParallel(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PARALLEL;
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > MAX_PARALLEL) throw new UsageError(`--parallel "${text}" is not a number of connections from 1 to ${MAX_PARALLEL}`);
  return count;
}

/** Parses a TCP port number; throws UsageError otherwise. */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UsageError(`"${text}" is not a TCP port (1-65535)`);
  return port;
}
