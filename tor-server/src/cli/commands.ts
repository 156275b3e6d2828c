import path from 'node:path';
import { TftcpClient, type ClientTls } from '../client/tftcp-client.js';
import { TftcpConnectionError, TftcpError, TftcpReplyError } from '../client/errors.js';
import { Command, Reply } from '../protocol/constants.js';
import { printable } from '../protocol/printable.js';
import { DEFAULT_PARALLEL, cliUsage } from './args.js';
import { formatHash, formatInfo } from './file-commands.js';
import { elapsed, formatBytes, formatTable, formatTsv } from './format.js';
import { progressTracker } from './progress.js';
import { LocalFileError, VerificationError, downloadFile, type ClientFolders } from './transfers.js';
import { uploadCommand } from './upload-command.js';
import { ServerFileDiffersError } from './resumable-upload.js';
import { ExitCode, type CliOutput, type CommandOutcome } from './outcome.js';
import { notFound, watchChanges } from './file-commands.js';
import { singleArgument, splitWords } from '../protocol/words.js';
import { SignInRefusedError, shareCommand, signIn } from './access-commands.js';

export { ExitCode, type CliOutput, type CommandOutcome, type ExitCodeValue } from './outcome.js';

/** A connection to one server that is opened on first use and reopened after it is lost. */
export class Session {
  readonly host: string;
  readonly port: number;
  readonly folders: ClientFolders;
  readonly tsv: boolean;
  /** Check every download against the server's sha256. */
  readonly verify: boolean;
  /** TLS settings, or undefined for plain TCP. */
  readonly tls: ClientTls | undefined;
  /** Connections a large upload uses at once (--parallel, TOR_PARALLEL). */
  readonly parallel: number;
  /** Signs every connection in (--token, TOR_TOKEN, or `auth` at the prompt). */
  token: string | undefined;
  #client: TftcpClient | undefined;

  constructor(options: { host: string; port: number; folders: ClientFolders; tsv?: boolean; verify?: boolean; tls?: ClientTls; token?: string; parallel?: number }) {
    this.token = options.token;
    this.parallel = options.parallel ?? DEFAULT_PARALLEL;
    this.host = options.host;
    this.port = options.port;
    this.tls = options.tls;
    this.folders = options.folders;
    this.tsv = options.tsv ?? false;
    this.verify = options.verify ?? false;
  }

  /** The open connection, connecting first if there is none; `signal` gives up on the connecting. */
  async client(signal?: AbortSignal): Promise<TftcpClient> {
    if (this.#client && !this.#client.closed) return this.#client;
    this.#client = await this.connect(signal);
    return this.#client;
  }

  /** A new connection of its own (same host, port, TLS and token), owned by the caller; `signal` gives up on the connecting. */
  connect(signal?: AbortSignal): Promise<TftcpClient> {
    const connecting = TftcpClient.connect({ host: this.host, port: this.port, ...(this.tls && { tls: this.tls }), token: this.token }).catch((error: unknown) => {
      throw error instanceof TftcpReplyError ? new SignInRefusedError(error.reply) : error;
    });
    return untilAborted(connecting, signal, (late) => late.destroy());
  }

  /**
   * Cuts the connection at once, so whatever command is under way fails now (a download keeps
   * its part file, the server discards an unfinished upload). The next command reconnects.
   */
  interrupt(): void {
    this.#client?.destroy(new TftcpConnectionError('cancelled'));
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#client !== undefined && !this.#client.closed;
  }

  /** Signs out politely if connected. */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client && !client.closed) await client.exit().catch(() => client.destroy());
  }
}

/** Thrown when the user cancelled (Ctrl-C) before the connection was even open. */
export class CancelledError extends Error {
  readonly code = 'TOR_ERR_CANCELLED';
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs one command line (`show`, `download notes.pdf`, ...) and prints its outcome. Aborting
 * `signal` (Ctrl-C) cancels it: the connection is cut and one line says what became of it.
 */
export async function runCommand(session: Session, line: string, io: CliOutput, signal?: AbortSignal): Promise<CommandOutcome> {
  if (signal?.aborted) return { code: ExitCode.CANCELLED, cancelled: true };
  const interrupt = () => session.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  try {
    return await dispatch(session, line, io, signal);
  } finally {
    signal?.removeEventListener('abort', interrupt);
  }
}

async function dispatch(session: Session, line: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const trimmed = line.trim();
  const space = trimmed.indexOf(' ');
  const word = space === -1 ? trimmed : trimmed.slice(0, space);
  const rawArgument = space === -1 ? '' : trimmed.slice(space + 1).trim();
  const verify = word === Command.DOWNLOAD && /^--verify(\s|$)/.test(rawArgument);
  // rename takes two names, each quoted when it has spaces; every other command one, quoted or not.
  const argument = word === Command.RENAME || word === Command.SHARE || word === Command.AUTH ? rawArgument : singleArgument(verify ? rawArgument.slice('--verify'.length).trim() : rawArgument);
  const needs = (what: string): CommandOutcome => {
    io.err(`${printable(word)} needs ${what}: ${printable(word)} <${what}>`);
    return { code: ExitCode.USAGE };
  };
  if (argument === undefined) {
    io.err(`${printable(word)}: put one name in quotes, as in ${printable(word)} "my file.txt"`);
    return { code: ExitCode.USAGE };
  }
  const client = () => session.client(signal);
  try {
    switch (word) {
      case '':
        return { code: ExitCode.OK };
      case 'help':
        io.out(cliUsage());
        return { code: ExitCode.OK };
      case Command.SHOW:
        printListing(session, io, await (await client()).show());
        return { code: ExitCode.OK };
      case Command.SEARCH:
        if (!argument) return needs('text');
        printListing(session, io, await (await client()).search(argument));
        return { code: ExitCode.OK };
      case Command.DOWNLOAD:
        if (!argument) return needs('name');
        return await download(session, argument, io, signal, verify || session.verify);
      case Command.UPLOAD:
        if (!argument) return needs('name');
        return await uploadCommand(session, argument, io, signal);
      case Command.STAT:
      case 'info': {
        if (!argument) return needs('name');
        const entry = await (await client()).stat(argument);
        if (!entry) return notFound(io);
        io.out(session.tsv ? formatTsv([entry]) : formatInfo(entry));
        return { code: ExitCode.OK };
      }
      case Command.HASH: {
        if (!argument) return needs('name');
        const hex = await (await client()).hash(argument);
        if (hex === undefined) return notFound(io);
        io.out(formatHash(hex, argument));
        return { code: ExitCode.OK };
      }
      case Command.DELETE:
        if (!argument) return needs('name');
        if (!(await (await client()).delete(argument))) return notFound(io);
        io.out(`Deleted ${printable(argument)}`);
        return { code: ExitCode.OK };
      case Command.RENAME: {
        const names = splitWords(rawArgument);
        if (names?.length !== 2) {
          io.err('rename needs two names: rename <old> <new> (put a name with spaces in quotes: rename "old name.txt" "new name.txt")');
          return { code: ExitCode.USAGE };
        }
        const [from, to] = names as [string, string];
        if (!(await (await client()).rename(from, to))) return notFound(io);
        io.out(`Renamed ${printable(from)} to ${printable(to)}`);
        return { code: ExitCode.OK };
      }
      case Command.WATCH:
        return await watchChanges(session, io, signal);
      case Command.AUTH:
        return await signIn(session, argument, io, signal);
      case Command.SHARE:
        return await shareCommand(session, argument, io, signal);
      case Command.EXIT:
        await session.close();
        return { code: ExitCode.OK, quit: true };
      default:
        io.err(`Unknown command "${printable(word)}". Type help for the list of commands.`);
        return { code: ExitCode.USAGE };
    }
  } catch (error) {
    if (signal?.aborted) {
      io.err(`cancelled: ${printable(trimmed)}`);
      return { code: ExitCode.CANCELLED, cancelled: true };
    }
    return reportError(error, io);
  }
}

function printListing(session: Session, io: CliOutput, entries: Parameters<typeof formatTable>[0]): void {
  const text = session.tsv ? formatTsv(entries) : formatTable(entries);
  if (text) io.out(text);
}

async function download(session: Session, name: string, io: CliOutput, signal: AbortSignal | undefined, verify: boolean): Promise<CommandOutcome> {
  const tracker = progressTracker(name, io);
  const started = performance.now();
  try {
    const result = await downloadFile(await session.client(signal), name, session.folders, tracker.hooks, { verify });
    tracker.bar()?.finish();
    const resumed = result.resumedFrom > 0 ? `, resumed after ${formatBytes(result.resumedFrom)}` : '';
    io.out(`Saved ${printable(path.relative(process.cwd(), result.path) || result.path)} (${formatBytes(result.size)} in ${elapsed(started)}${resumed})`);
    if (result.sha256) io.out(`verified sha256 ${result.sha256}`);
    return { code: ExitCode.OK };
  } catch (error) {
    tracker.bar()?.abort();
    const shown = printable(name);
    if (signal?.aborted) {
      const where = tracker.percent() === undefined ? 'before it started' : `at ${tracker.percent()}%; run download ${shown} again to resume`;
      io.err(`cancelled: download of ${shown} ${where}`);
      return { code: ExitCode.CANCELLED, cancelled: true };
    }
    if (error instanceof TftcpConnectionError) {
      io.err(`Connection lost during the download: ${printable(error.message)}\nWhat arrived is kept; run "download ${shown}" again to resume.`);
      return { code: ExitCode.CONNECTION };
    }
    throw error;
  }
}

function reportError(error: unknown, io: CliOutput): CommandOutcome {
  // Messages can carry the server's bytes (its reply lines, a malformed row): escape them for the terminal.
  if (error instanceof TftcpReplyError) {
    // The server's own words, verbatim but for control characters.
    io.err(printable(error.reply));
    return { code: ExitCode.REFUSED };
  }
  if (error instanceof TftcpConnectionError) {
    io.err(`Connection problem: ${printable(error.message)}`);
    return { code: ExitCode.CONNECTION };
  }
  if (error instanceof TftcpError || error instanceof LocalFileError || error instanceof VerificationError || error instanceof ServerFileDiffersError) {
    io.err(printable(error.message));
    return { code: ExitCode.REFUSED };
  }
  const { code, message } = error as NodeJS.ErrnoException;
  io.err(code === 'ENOSPC' ? 'This machine ran out of disk space; the partial download is kept for resuming.' : `Error: ${printable(message)}`);
  return { code: ExitCode.REFUSED };
}

/** Resolves as `promise` does, or rejects with CancelledError once `signal` aborts; a late result goes to `discard`. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, discard: (late: T) => void): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) discard(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
