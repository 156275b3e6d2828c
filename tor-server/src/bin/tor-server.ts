#!/usr/bin/env node
import path from 'node:path';
import { OperatorConsole } from '../server/console.js';
import { ADMIN_SUBCOMMANDS, SERVER_PROGRAM, parseAdminArgs, parseServerConfig, usage } from '../server/config.js';
import { runTokenAdmin } from '../server/auth/token-admin.js';
import { TokenFile } from '../server/auth/token-file.js';
import { ConfigError, EXIT_FAILURE, MetricsListenError, listenProblem, metricsListening, settingsOrExit, stopOnSignals, torServerListening } from '../options/index.js';
import { TlsSetupError } from '../options/tls.js';
import { FolderLockedError } from '../server/store/folder-lock.js';
import { createLogger } from '../server/logger.js';
import { TorServer } from '../server/server.js';

// Run it as `node --initial-heap-size=32` (the bin's shebang, npm start, the image and compose
// do): with the S3 store's SDK loaded, V8's small default initial heap marks the old generation
// every few megabytes streamed (14 full collections per GiB downloaded). Measured on this 2-core
// VM on Ceph: 1 GiB download 1.5–2.3 → 1.2–1.4 s of server CPU. 64 MB saves no more there, and
// on the folder store lets request garbage pile up (peak RSS 103 → 147 MB under 16 clients of
// small files) where 32 MB keeps 103 MB.

/** Starts a tor-server from flags and environment, with the console when stdin is a terminal. */
async function main(): Promise<void> {
  if (ADMIN_SUBCOMMANDS.includes(process.argv[2] ?? '')) return administerTokens();
  const config = settingsOrExit(SERVER_PROGRAM, usage(), () => parseServerConfig(process.argv.slice(2), process.env));
  if (config === undefined) return;

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
    process.stderr.write(`${SERVER_PROGRAM}: ${startupProblem(error as NodeJS.ErrnoException, config)}\n`);
    process.exit(EXIT_FAILURE);
  }
  process.stdout.write(`${torServerListening({ ...server.listening(), dir: path.resolve(config.dir) })}\n`);
  const metrics = server.metricsAddress();
  if (metrics) process.stdout.write(`${metricsListening(SERVER_PROGRAM, { host: metrics.address, port: metrics.port })}\n`);

  const shutdown = stopOnSignals(SERVER_PROGRAM, (reason) => {
    logger.info('signal', { signal: reason });
    console_?.close();
    return server.close();
  });

  // With TLS, the usual signal to take a renewed certificate; a bad new pair keeps the old one
  // serving. With trusted proxies named by host, it looks them up again. Otherwise SIGHUP
  // keeps its default (a closed terminal stops the server).
  if (config.tlsCert !== undefined || server.trustedProxies.hasHostNames) {
    process.on('SIGHUP', () => {
      void server.resolveTrustedProxies();
      try {
        server.reloadCertificate();
      } catch (error) {
        logger.warn('tls-reload-failed', { error: (error as Error).message });
      }
    });
  }

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

/** `tor-server token ...` / `tor-server share ...`: changes the token file and exits; a running server picks the change up. */
async function administerTokens(): Promise<void> {
  const { words, stateDir } = parseAdminArgs(process.argv.slice(2), process.env);
  try {
    const file = new TokenFile(stateDir);
    const outcome = await runTokenAdmin(file, words);
    (outcome.ok ? process.stdout : process.stderr).write(`${outcome.text}\n`);
    // The folder, resolved: run from another folder than the server's, a relative --state-dir names a file no server reads.
    if (outcome.ok && words[1] === 'add') process.stdout.write(`Kept (as a hash) in ${file.path}: the tor-server that uses it runs with --state-dir ${path.dirname(file.path)}.\n`);
    process.exitCode = outcome.ok ? 0 : EXIT_FAILURE;
  } catch (error) {
    process.stderr.write(`${SERVER_PROGRAM}: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

function startupProblem(error: NodeJS.ErrnoException & { port?: number }, config: { host: string; port: number; tlsPort?: number }): string {
  if (error instanceof FolderLockedError || error instanceof MetricsListenError || error instanceof ConfigError || error instanceof TlsSetupError) return error.message;
  // The listen error names the port that failed: the plain one or the TLS one beside it.
  const onTlsPort = config.tlsPort !== undefined && error.port === config.tlsPort && config.tlsPort !== config.port;
  return listenProblem(error, {
    host: config.host,
    port: onTlsPort ? config.tlsPort! : config.port,
    portFlag: onTlsPort ? 'tls-port' : 'port',
    accessHint: 'Choose a port above 1023 or a folder you can write with --dir.',
  });
}

void main();
