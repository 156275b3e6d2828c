import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { parseCommandLine } from '../protocol/command-line.js';
import { ErrorKind, Reply, errorReply } from '../protocol/constants.js';
import { INVALID_LINE, LineReader, LineTooLongError } from '../protocol/line-reader.js';
import { writeLine } from '../protocol/write.js';
import { findCommand } from './commands/index.js';
import { ReplyError } from './errors.js';
import type { ServerContext } from './context.js';

/** What a connection is doing, for the console's `list`. */
export type Activity =
  | { kind: 'idle' }
  | { kind: 'command'; command: string }
  | { kind: 'uploading' | 'downloading'; name: string; total: number; done(): number };

// After our last reply, keep reading (and dropping) the peer's bytes this long before a hard close.
const LINGER_MS = 2000;

let nextId = 1;

/** One client: reads command lines, runs them one at a time, and closes cleanly. */
export class Connection {
  readonly id = nextId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt = new Date();
  readonly socket: Socket;
  readonly reader = new LineReader();
  activity: Activity = { kind: 'idle' };
  readonly #ctx: ServerContext;
  #closing = false;

  constructor(socket: Socket, ctx: ServerContext) {
    this.socket = socket;
    this.#ctx = ctx;
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('timeout', () => this.#onTimeout());
    // Errors surface through the reader; this listener only keeps them from being unhandled.
    socket.on('error', (error) => ctx.logger.debug('socket-error', { client: this.label, error: error.message }));
    pipeline(socket, this.reader, () => {});
  }

  /** `address:port` of the client. */
  get label(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  /** True while a command is being carried out. */
  get busy(): boolean {
    return this.activity.kind !== 'idle';
  }

  /** Serves commands until the client leaves, misbehaves, or the server shuts down. */
  async run(): Promise<void> {
    const { logger } = this.#ctx;
    try {
      while (!this.#closing && !this.#ctx.shuttingDown) {
        this.activity = { kind: 'idle' };
        this.socket.setTimeout(this.#ctx.config.idleTimeoutMs);
        const line = await this.reader.nextLine();
        if (line === null || this.#closing) break;
        if (await this.#handle(line) === 'close') break;
      }
    } catch (error) {
      if (error instanceof LineTooLongError) {
        logger.warn('line-too-long', { client: this.label });
        await this.send(Reply.UNKNOWN).catch(() => {});
      } else if (!this.socket.destroyed) {
        logger.warn('connection-error', { client: this.label, error: (error as Error).message });
      }
    } finally {
      this.activity = { kind: 'idle' };
      this.close();
    }
  }

  /** Sends one reply line. */
  send(line: string): Promise<void> {
    return writeLine(this.socket, line);
  }

  /** Uses the stall timeout while a transfer is under way, then the idle timeout again. */
  stallGuard(): void {
    this.socket.setTimeout(this.#ctx.config.stallTimeoutMs);
  }

  /** Ends the connection after flushing replies; drops what the client still sends. */
  close(): void {
    if (this.#closing && this.socket.destroyed) return;
    this.#closing = true;
    this.reader.discardInput();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  /** Cuts the connection at once (transfers in flight fail). */
  destroy(): void {
    this.#closing = true;
    this.socket.destroy();
  }

  async #handle(line: string | typeof INVALID_LINE): Promise<'close' | void> {
    const { logger } = this.#ctx;
    const parsed = line === INVALID_LINE ? undefined : parseCommandLine(line);
    const command = parsed && findCommand(parsed.command);
    if (!parsed || !command || (command.takesArgument !== (parsed.argument !== undefined))) {
      logger.info('command', { client: this.label, command: parsed?.command.slice(0, 32) ?? '(not UTF-8)', outcome: 'unknown' });
      return this.send(Reply.UNKNOWN);
    }
    if (this.#ctx.shuttingDown) {
      await this.send(errorReply(ErrorKind.SHUTTING_DOWN, 'try again in a moment'));
      return 'close';
    }
    this.activity = { kind: 'command', command: command.name };
    try {
      const outcome = await command.run(this, parsed.argument ?? '', this.#ctx);
      logger.info('command', { client: this.label, command: command.name, outcome: outcome === 'close' ? 'closed' : 'ok' });
      return outcome;
    } catch (error) {
      if (!(error instanceof ReplyError)) throw error;
      logger.info('command', { client: this.label, command: command.name, outcome: 'refused', reply: error.reply });
      return this.send(error.reply);
    }
  }

  #onTimeout(): void {
    const { logger } = this.#ctx;
    if (this.activity.kind === 'uploading' || this.activity.kind === 'downloading') {
      logger.warn('transfer-stalled', { client: this.label, name: this.activity.name });
      // The byte stream is mid-transfer, so no reply line could be read as one: cut it.
      this.destroy();
      return;
    }
    logger.info('idle-timeout', { client: this.label });
    this.send(errorReply(ErrorKind.IDLE_TIMEOUT, 'closing the connection')).catch(() => {});
    this.close();
  }
}
