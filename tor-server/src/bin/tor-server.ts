#!/usr/bin/env node
import path from 'node:path';
import { OperatorConsole } from '../server/console.js';
import { ConfigError, parseServerConfig, usage } from '../server/config.js';
import { FolderLockedError } from '../server/store/folder-lock.js';
import { createLogger } from '../server/logger.js';
import { TorServer } from '../server/server.js';

/** Starts a tor-server from flags and environment, with the console when stdin is a terminal. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseServerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`tor-server: ${(error as Error).message}\n\n${usage()}`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(usage());
    return;
  }

  let console_: OperatorConsole | undefined;
  // A log reader that goes away (a closed pipe: EPIPE) must not take the server down with it.
  let stdoutGone = false;
  process.stdout.on('error', () => (stdoutGone = true));
  const logger = createLogger(config.logLevel, (line) => {
    if (console_) console_.print(line);
    else if (!stdoutGone) process.stdout.write(line);
  });

  let server: TorServer;
  try {
    server = await TorServer.start({ ...config, logger });
  } catch (error) {
    process.stderr.write(`tor-server: ${startupProblem(error as NodeJS.ErrnoException, config)}\n`);
    process.exit(1);
  }
  const { address, port } = server.address();
  process.stdout.write(`tor-server listening on ${address}:${port}, serving ${path.resolve(config.dir)}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stderr.write('tor-server: forced exit\n');
      process.exit(1);
    }
    stopping = true;
    logger.info('signal', { signal });
    console_?.close();
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  if (process.stdin.isTTY) {
    console_ = new OperatorConsole(server, {
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      onExit: () => shutdown('console exit'),
      onInterrupt: () => shutdown('SIGINT'),
    });
  }
}

function startupProblem(error: NodeJS.ErrnoException, config: { host: string; port: number; dir: string }): string {
  if (error instanceof FolderLockedError) return error.message;
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${config.port} on ${config.host} is already in use. Stop the other server or choose another port with --port.`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${error.message}). Choose a port above 1023 or a folder you can write with --dir.`;
    case 'EADDRNOTAVAIL':
      return `${config.host} is not an address of this machine. Use --host 0.0.0.0 to listen on all of them.`;
    default:
      return `could not start: ${error.message}`;
  }
}

void main();
