import { ConfigError } from './table.js';

/** Exit status for a command line or environment that makes no sense. */
export const EXIT_USAGE = 2;
/** Exit status for a start that failed (port in use, folder locked), or a forced stop. */
export const EXIT_FAILURE = 1;

/**
 * A program's settings from `read`, or undefined after --help printed the usage. A
 * {@link ConfigError} prints `<program>: <message>`, the usage, and exits 2.
 */
export function settingsOrExit<T>(program: string, usageText: string, read: () => T | 'help'): T | undefined {
  let settings: T | 'help';
  try {
    settings = read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${program}: ${error.message}\n\n${usageText}`);
    process.exit(EXIT_USAGE);
  }
  if (settings !== 'help') return settings;
  process.stdout.write(usageText);
  return undefined;
}

/**
 * Why a server could not listen, in words that say what to do. `accessHint` is the advice for
 * a permission error (a low port, or a folder it cannot write).
 */
export function listenProblem(error: NodeJS.ErrnoException, where: { host: string; port: number; accessHint: string; portFlag?: string }): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${where.port} on ${where.host} is already in use. Stop the other server or choose another port with --${where.portFlag ?? 'port'}.`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${error.message}). ${where.accessHint}`;
    case 'EADDRNOTAVAIL':
      return `${where.host} is not an address of this machine. Use --host 0.0.0.0 to listen on all of them.`;
    default:
      return `could not start: ${error.message}`;
  }
}

/**
 * Stops gracefully on the first SIGINT or SIGTERM: runs `stop` and exits 0 when it is done (1
 * if it fails). A second signal while stopping exits 1 at once, for an operator who will not
 * wait. Returns the same shutdown for other stop requests (a console's `exit`).
 */
export function stopOnSignals(program: string, stop: (reason: string) => Promise<void>): (reason: string) => void {
  let stopping = false;
  const shutdown = (reason: string) => {
    if (stopping) {
      process.stderr.write(`${program}: forced exit\n`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    stop(reason).then(
      () => process.exit(0),
      () => process.exit(EXIT_FAILURE),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return shutdown;
}
