#!/usr/bin/env node
import { DEFAULT_PORT } from '../protocol/constants.js';
import { TftcpConnectionError } from '../client/errors.js';
import type { ClientTls } from '../client/tftcp-client.js';
import { TlsSetupError, readCa } from '../options/tls.js';
import { UsageError, cliUsage, parseCliArgs, parsePort } from '../cli/args.js';
import { ExitCode, Session, runCommand, type CliOutput } from '../cli/commands.js';
import { SignInRefusedError } from '../cli/access-commands.js';
import { ask, runRepl } from '../cli/repl.js';
import { ensureFolders } from '../cli/transfers.js';
import { quoteWord } from '../protocol/words.js';

/** tor-client: a prompt when run bare, one command and an exit status when given one. */
async function main(): Promise<number> {
  let options;
  try {
    options = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tor-client: ${error.message}\n\n${cliUsage()}`);
    return ExitCode.USAGE;
  }
  if (options.help) {
    process.stdout.write(cliUsage());
    return ExitCode.OK;
  }

  const interactive = options.command.length === 0;
  const atTerminal = Boolean(process.stdin.isTTY);
  let { host, port } = options;
  if (host === undefined) host = interactive && atTerminal ? await ask(process.stdin, process.stdout, 'Host', '127.0.0.1') : '127.0.0.1';
  if (port === undefined) {
    try {
      port = interactive && atTerminal ? parsePort(await ask(process.stdin, process.stdout, 'Port', String(DEFAULT_PORT))) : DEFAULT_PORT;
    } catch (error) {
      process.stderr.write(`tor-client: ${(error as Error).message}\n`);
      return ExitCode.USAGE;
    }
  }

  let tls: ClientTls | undefined;
  if (options.tls) {
    try {
      tls = { insecure: options.tls.insecure, ...(options.tls.caFile !== undefined && { ca: readCa(options.tls.caFile, '--ca') }) };
    } catch (error) {
      if (!(error instanceof TlsSetupError)) throw error;
      process.stderr.write(`tor-client: ${error.message}\n`);
      return ExitCode.USAGE;
    }
    if (tls.insecure) process.stderr.write(`tor-client: warning: --insecure does not check the server's certificate; the connection is encrypted, but anyone in between can pretend to be the server\n`);
  }

  const folders = await ensureFolders(options.home);
  const session = new Session({ host, port, folders, tsv: options.tsv, verify: options.verify, ...(tls && { tls }), token: options.token, parallel: options.parallel });
  const io: CliOutput = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: process.stderr.isTTY ? (text) => process.stderr.write(text) : undefined,
  };

  if (!interactive) {
    // Ctrl-C cancels the command (a download keeps its part file) and exits 130; a second one exits at once.
    const cancel = new AbortController();
    const onSigint = () => (cancel.signal.aborted ? process.exit(ExitCode.CANCELLED) : cancel.abort());
    process.on('SIGINT', onSigint);
    try {
      // Quoted again as the shell had them, so `rename "a b.txt" c.txt` keeps its two names.
      const outcome = await runCommand(session, options.command.map(quoteWord).join(' '), io, cancel.signal);
      await session.close();
      return outcome.code;
    } finally {
      process.off('SIGINT', onSigint);
    }
  }

  try {
    await session.client();
  } catch (error) {
    if (error instanceof SignInRefusedError) {
      io.err(error.message);
      return ExitCode.REFUSED;
    }
    if (!(error instanceof TftcpConnectionError)) throw error;
    io.err(error.message);
    return ExitCode.CONNECTION;
  }
  await runRepl(session, process.stdin, process.stdout, io, atTerminal);
  return ExitCode.OK;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`tor-client: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);

