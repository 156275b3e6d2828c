import path from 'node:path';
import { TftcpClient } from '../client/tftcp-client.js';
import { TftcpConnectionError, TftcpError, TftcpReplyError } from '../client/errors.js';
import { Command } from '../protocol/constants.js';
import { cliUsage } from './args.js';
import { formatBytes, formatTable, formatTsv } from './format.js';
import { ProgressBar } from './progress.js';
import { LocalFileError, downloadFile, uploadFile, type ClientFolders, type TransferHooks } from './transfers.js';

/** Exit statuses of one-shot mode. */
export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2, CONNECTION: 3 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Where a command's output goes. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  /** Progress bar redraws; undefined when not on a terminal. */
  progress?: (text: string) => void;
}

/** A connection to one server that is opened on first use and reopened after it is lost. */
export class Session {
  readonly host: string;
  readonly port: number;
  readonly folders: ClientFolders;
  readonly tsv: boolean;
  #client: TftcpClient | undefined;

  constructor(options: { host: string; port: number; folders: ClientFolders; tsv?: boolean }) {
    this.host = options.host;
    this.port = options.port;
    this.folders = options.folders;
    this.tsv = options.tsv ?? false;
  }

  /** The open connection, connecting first if there is none. */
  async client(): Promise<TftcpClient> {
    if (this.#client && !this.#client.closed) return this.#client;
    this.#client = await TftcpClient.connect({ host: this.host, port: this.port });
    return this.#client;
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

/** The result of one command: its exit code, and whether the user asked to leave. */
export interface CommandOutcome {
  code: ExitCodeValue;
  quit?: boolean;
}

/** Runs one command line (`show`, `download notes.pdf`, ...) and prints its outcome. */
export async function runCommand(session: Session, line: string, io: CliOutput): Promise<CommandOutcome> {
  const trimmed = line.trim();
  const space = trimmed.indexOf(' ');
  const word = space === -1 ? trimmed : trimmed.slice(0, space);
  const argument = space === -1 ? '' : trimmed.slice(space + 1).trim();
  const needs = (what: string): CommandOutcome => {
    io.err(`${word} needs ${what}: ${word} <${what}>`);
    return { code: ExitCode.USAGE };
  };
  try {
    switch (word) {
      case '':
        return { code: ExitCode.OK };
      case 'help':
        io.out(cliUsage());
        return { code: ExitCode.OK };
      case Command.SHOW:
        printListing(session, io, await (await session.client()).show());
        return { code: ExitCode.OK };
      case Command.SEARCH:
        if (!argument) return needs('text');
        printListing(session, io, await (await session.client()).search(argument));
        return { code: ExitCode.OK };
      case Command.DOWNLOAD:
        if (!argument) return needs('name');
        return await download(session, argument, io);
      case Command.UPLOAD:
        if (!argument) return needs('name');
        return await upload(session, argument, io);
      case Command.EXIT:
        await session.close();
        return { code: ExitCode.OK, quit: true };
      default:
        io.err(`Unknown command "${word}". Type help for the list of commands.`);
        return { code: ExitCode.USAGE };
    }
  } catch (error) {
    return reportError(error, io);
  }
}

function printListing(session: Session, io: CliOutput, entries: Parameters<typeof formatTable>[0]): void {
  const text = session.tsv ? formatTsv(entries) : formatTable(entries);
  if (text) io.out(text);
}

async function download(session: Session, name: string, io: CliOutput): Promise<CommandOutcome> {
  const { hooks, bar } = progressHooks(name, io);
  const started = performance.now();
  try {
    const result = await downloadFile(await session.client(), name, session.folders, hooks);
    bar()?.finish();
    const resumed = result.resumedFrom > 0 ? `, resumed after ${formatBytes(result.resumedFrom)}` : '';
    io.out(`Saved ${path.relative(process.cwd(), result.path) || result.path} (${formatBytes(result.size)} in ${seconds(started)}${resumed})`);
    return { code: ExitCode.OK };
  } catch (error) {
    bar()?.abort();
    if (error instanceof TftcpConnectionError) {
      io.err(`Connection lost during the download: ${error.message}\nWhat arrived is kept; run "download ${name}" again to resume.`);
      return { code: ExitCode.CONNECTION };
    }
    throw error;
  }
}

async function upload(session: Session, file: string, io: CliOutput): Promise<CommandOutcome> {
  const { hooks, bar } = progressHooks(path.basename(file), io);
  const started = performance.now();
  try {
    const result = await uploadFile(await session.client(), file, session.folders, hooks);
    bar()?.finish();
    io.out(`Uploaded ${result.name} (${formatBytes(result.size)} in ${seconds(started)})`);
    return { code: ExitCode.OK };
  } catch (error) {
    bar()?.abort();
    throw error;
  }
}

function progressHooks(label: string, io: CliOutput): { hooks: TransferHooks; bar: () => ProgressBar | undefined } {
  let bar: ProgressBar | undefined;
  const hooks: TransferHooks = {
    start: (total, done) => (bar = new ProgressBar(label, total, io.progress, done)),
    progress: (done) => bar?.update(done),
  };
  return { hooks, bar: () => (io.progress ? bar : undefined) };
}

function reportError(error: unknown, io: CliOutput): CommandOutcome {
  if (error instanceof TftcpReplyError) {
    // The server's own words, verbatim.
    io.err(error.reply);
    return { code: ExitCode.REFUSED };
  }
  if (error instanceof TftcpConnectionError) {
    io.err(`Connection problem: ${error.message}`);
    return { code: ExitCode.CONNECTION };
  }
  if (error instanceof TftcpError || error instanceof LocalFileError) {
    io.err(error.message);
    return { code: ExitCode.REFUSED };
  }
  const { code, message } = error as NodeJS.ErrnoException;
  io.err(code === 'ENOSPC' ? 'This machine ran out of disk space; the partial download is kept for resuming.' : `Error: ${message}`);
  return { code: ExitCode.REFUSED };
}

function seconds(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}
