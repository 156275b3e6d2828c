import type { Socket } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { parseCommandLine } from '../protocol/command-line.js';
import { ErrorKind, Reply, accessAllows, errorReply, type AccessLevel } from '../protocol/constants.js';
import { INVALID_LINE, LineReader, LineTooLongError, type RawBytes } from '../protocol/line-reader.js';
import { sendExactly, writeLine } from '../protocol/write.js';
import { sessionCheck } from './auth/session-check.js';
import type { TokenRecord } from './auth/token-file.js';
import type { CommandConnection, Session, TransferActivity } from './commands/command.js';
import { findCommand, type CommandHandler } from './commands/index.js';
import { clientAddress } from './client-address.js';
import { UNKNOWN_COMMAND, replyResult, type CommandResult } from './metrics.js';
import { ReplyError } from './errors.js';
import type { ServerContext } from './context.js';
import type { FileName } from './store/store.js';
import { watchTransferRate } from './transfer-rate.js';

export type { TransferActivity } from './commands/command.js';

/** What a connection is doing, for the console's `list`. */
export type Activity = { kind: 'idle' } | { kind: 'command'; command: string } | { kind: 'watching'; since: Date } | TransferActivity;

// A watcher is quiet while nothing changes: TCP keep-alive probes find a peer that vanished.
const WATCH_KEEPALIVE_MS = 30_000;

/** The owner of resumable uploads begun without a token (open mode): every such client shares them. */
export const OPEN_OWNER = 'open';

// After our last reply, keep reading (and dropping) the peer's bytes this long before a hard close.
const LINGER_MS = 2000;

// The reply to a connection silent for the idle timeout (also while an upload waits for its size line).
const IDLE_TIMEOUT_REPLY = errorReply(ErrorKind.IDLE_TIMEOUT, 'closing the connection');

let nextId = 1;

/** One client: reads command lines, runs them one at a time, and closes cleanly. Commands see it only as a CommandConnection. */
export class Connection implements CommandConnection {
  readonly id = nextId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt = new Date();
  readonly #socket: Socket;
  readonly #reader = new LineReader();
  activity: Activity = { kind: 'idle' };
  /** What this client may do; every command's level is checked against it where commands are dispatched. */
  access: AccessLevel;
  /** The token signed in with (its level is `access`). */
  session: Session | undefined;
  readonly fromTrustedProxy: boolean;
  #userAddress: string | undefined;
  /** Owner of this client's resumable uploads: everyone shares OPEN_OWNER in open mode. */
  owner: string = OPEN_OWNER;
  readonly #gone = new AbortController();
  readonly #ctx: ServerContext;
  /** When the first command must have arrived (performance.now() time), counted from the connect. */
  readonly #firstCommandBy: number;
  #closing = false;
  /** The first refusal (or `not-found`) the command under way answered with: its metrics result. */
  #refusal: CommandResult | undefined;
  /** Reply lines are being gathered until the current turn of the event loop ends (see #gatherLines). */
  #gathering = false;

  constructor(socket: Socket, ctx: ServerContext) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#firstCommandBy = performance.now() + ctx.config.firstCommandTimeoutMs;
    this.remoteAddress = clientAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.access = ctx.config.openAccess;
    this.fromTrustedProxy = ctx.trustedProxies.has(this.remoteAddress);
    socket.setNoDelay(true);
    socket.once('close', () => this.#gone.abort());
    socket.on('timeout', () => this.#onTimeout());
    // Errors surface through the reader; this listener only keeps them from being unhandled.
    socket.on('error', (error) => ctx.logger.debug('socket-error', { client: this.label, error: error.message }));
    pipeline(socket, this.#reader, () => {});
  }

  /** `address:port` of the client; through a trusted proxy that named its user, `user (via proxy:port)`. */
  get label(): string {
    const peer = `${this.remoteAddress}:${this.remotePort}`;
    return this.#userAddress === undefined ? peer : `${this.#userAddress} (via ${peer})`;
  }

  /** The end user's address: what a trusted proxy named with `client`, else the peer's. */
  get userAddress(): string {
    return this.#userAddress ?? this.remoteAddress;
  }

  /** Takes the end user's address from a trusted proxy's `client` line. */
  setUserAddress(address: string): boolean {
    if (this.#userAddress !== undefined) return false;
    this.#userAddress = address;
    return true;
  }

  /** Signs in with a token: its level and limits apply from the next command on. */
  signIn(record: TokenRecord): void {
    this.session = { id: record.id, label: record.label, kind: record.kind, only: (record.only ?? undefined) as FileName | undefined };
    this.access = record.access;
    // Resumable uploads belong to the token from now on: another token cannot see or finish them.
    this.owner = `token:${record.id}`;
  }

  /** Whether the connection is signed in with token `id` and between commands (idle or watching). */
  idleWithToken(ids: ReadonlySet<string>): boolean {
    return this.session !== undefined && ids.has(this.session.id) && !this.busy;
  }

  /** True while a command is being carried out (a watcher only waits, and is not busy). */
  get busy(): boolean {
    return this.activity.kind !== 'idle' && this.activity.kind !== 'watching';
  }

  /** Aborted once the client is gone. */
  get signal(): AbortSignal {
    return this.#gone.signal;
  }

  /** Serves commands until the client leaves, misbehaves, or the server shuts down. */
  async run(): Promise<void> {
    const { logger, config } = this.#ctx;
    // Until a real command arrives, the first-command deadline holds: lines the server cannot
    // take as a command do not buy a silent connection the (much longer) idle timeout.
    let commanded = false;
    try {
      while (!this.#closing && !this.#ctx.shuttingDown) {
        this.activity = { kind: 'idle' };
        const line = commanded
          ? await this.#nextLine(config.idleTimeoutMs, IDLE_TIMEOUT_REPLY)
          : await this.#nextLine(Math.max(0, this.#firstCommandBy - performance.now()), firstCommandTimeoutReply(config.firstCommandTimeoutMs), 'first-command-timeout');
        if (line === null || this.#closing) break;
        // A command runs under the idle timeout, so a peer that stops reading its replies is closed.
        this.#socket.setTimeout(config.idleTimeoutMs);
        const outcome = await this.#handle(line);
        if (outcome === 'close') break;
        if (outcome !== 'unknown') commanded = true;
      }
    } catch (error) {
      if (error instanceof LineTooLongError) {
        logger.warn('line-too-long', { client: this.label });
        await this.send(Reply.UNKNOWN).catch(() => {});
      } else if (!this.#socket.destroyed) {
        logger.warn('connection-error', { client: this.label, error: (error as Error).message });
      }
    } finally {
      this.activity = { kind: 'idle' };
      this.close();
    }
  }

  /** Sends one reply line. */
  send(line: string): Promise<void> {
    this.#refusal ??= replyResult(line);
    this.#gatherLines();
    return writeLine(this.#socket, line);
  }

  /** Sends several reply lines in one write. */
  sendLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    this.#gatherLines();
    return writeLine(this.#socket, lines.join('\n'));
  }

  /** Queues one line without waiting; returns the bytes not yet handed to the network. */
  sendNow(line: string): number {
    if (this.#socket.destroyed) return this.#socket.writableLength;
    this.#gatherLines();
    this.#socket.write(`${line}\n`);
    return this.#socket.writableLength;
  }

  /**
   * Lines written in this turn of the event loop (`ok`, `found`, the size, and the first bytes
   * when they are at hand) leave in one write: one packet for the client to wake up for, not one
   * a line. The bytes on the wire are the same.
   */
  #gatherLines(): void {
    if (this.#gathering) return;
    this.#gathering = true;
    this.#socket.cork();
    // A tick queued from a promise continuation runs once the pending continuations are done.
    process.nextTick(() => {
      this.#gathering = false;
      this.#socket.uncork();
    });
  }

  /** Reads the next line within `ms`; null when it is late (the client is told) or the client left. */
  readLine(ms: number): Promise<string | typeof INVALID_LINE | null> {
    return this.#nextLine(ms);
  }

  /** The next `size` raw bytes from the client, as a stream. */
  readBytes(size: number): RawBytes {
    return this.#reader.readBytes(size);
  }

  /** Sends exactly `count` bytes of `source`; destroys the source when that fails. */
  async sendBytes(source: Readable, count: number, onBytes?: (count: number) => void): Promise<void> {
    try {
      await sendExactly(source, this.#socket, count, onBytes);
    } catch (error) {
      source.destroy();
      throw error;
    }
  }

  /** Turns the socket's inactivity timeout off until the next line is awaited. */
  pauseTimeouts(): void {
    this.#socket.setTimeout(0);
  }

  /** No idle timeout from now on, keep-alive instead; the console shows the connection as watching. */
  beginWatch(): void {
    this.activity = { kind: 'watching', since: new Date() };
    this.#socket.setTimeout(0);
    this.#socket.setKeepAlive(true, WATCH_KEEPALIVE_MS);
  }

  /** Cuts the connection at once. */
  cut(): void {
    this.destroy();
  }

  /**
   * Reads the next line, which must be complete within `ms` however slowly its bytes trickle in
   * (a partial line does not extend it). When it is not, sends `lateReply`, closes the connection
   * and resolves null.
   */
  async #nextLine(ms: number, lateReply = IDLE_TIMEOUT_REPLY, event = 'idle-timeout'): Promise<string | typeof INVALID_LINE | null> {
    // The deadline below replaces the socket's inactivity timeout, which every byte would reset.
    this.#socket.setTimeout(0);
    if (ms === Infinity) return this.#reader.nextLine();
    const timer = setTimeout(() => {
      this.#ctx.logger.info(event, { client: this.label });
      this.send(lateReply).catch(() => {});
      this.close();
    }, ms);
    try {
      return await this.#reader.nextLine();
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Until the returned function is called, a transfer with no progress for the stall timeout, or
   * moving less than the minimum in a window of it, is cut; then the command's own rules apply again.
   */
  beginTransfer(activity: TransferActivity): () => void {
    const { config, logger } = this.#ctx;
    const commandActivity = this.activity;
    this.activity = activity;
    this.#socket.setTimeout(config.stallTimeoutMs);
    const stopWatch = watchTransferRate({
      client: this.label,
      direction: activity.kind === 'uploading' ? 'upload' : 'download',
      name: activity.name,
      total: activity.total,
      done: activity.done,
      windowMs: config.stallTimeoutMs,
      minBytes: config.minTransferBytes,
      logger,
      cut: () => this.destroy(),
    });
    return () => {
      stopWatch();
      if (this.activity !== activity) return;
      this.activity = commandActivity;
      this.#socket.setTimeout(config.idleTimeoutMs);
    };
  }

  /** Ends the connection after flushing replies; drops what the client still sends. */
  close(): void {
    if (this.#closing && this.#socket.destroyed) return;
    this.#closing = true;
    this.#reader.discardInput();
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), LINGER_MS).unref();
  }

  /** Cuts the connection at once (transfers in flight fail). */
  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  async #handle(line: string | typeof INVALID_LINE): Promise<'close' | 'unknown' | void> {
    const { logger, metrics } = this.#ctx;
    this.#refusal = undefined;
    const parsed = line === INVALID_LINE ? undefined : parseCommandLine(line);
    const command = parsed && findCommand(parsed.command);
    if (!parsed || !command || !argumentFits(command, parsed.argument)) {
      logger.info('command', { client: this.label, command: parsed?.command.slice(0, 32) ?? '(not UTF-8)', outcome: 'unknown' });
      metrics.commandDone(command?.name ?? UNKNOWN_COMMAND, 'unknown');
      await this.send(Reply.UNKNOWN);
      return 'unknown';
    }
    if (this.#ctx.shuttingDown) {
      await this.#refuse(command.name, errorReply(ErrorKind.SHUTTING_DOWN, 'try again in a moment'));
      return 'close';
    }
    const signInRefusal = command.beforeSignIn ? undefined : this.#signInRefusal();
    if (signInRefusal !== undefined) {
      logger.info('command', { client: this.label, command: command.name, outcome: 'refused', reply: signInRefusal });
      return this.#refuse(command.name, signInRefusal);
    }
    if (!accessAllows(this.access, command.access)) {
      const giver = this.session ? 'this token gives' : 'this server gives';
      const reply = errorReply(ErrorKind.PERMISSION_DENIED, `${command.name} needs ${command.access} access (${giver} ${this.access})`);
      logger.info('command', { client: this.label, command: command.name, outcome: 'refused', reply });
      return this.#refuse(command.name, reply);
    }
    this.activity = { kind: 'command', command: command.name };
    let result: CommandResult = 'cut';
    try {
      const outcome = await command.run(this, parsed.argument ?? '', this.#ctx);
      logger.info('command', { client: this.label, command: command.name, outcome: outcome === 'close' ? 'closed' : 'ok' });
      result = this.#refusal ?? (outcome === 'close' ? 'closed' : 'ok');
      return outcome;
    } catch (error) {
      if (!(error instanceof ReplyError)) throw error;
      logger.info('command', { client: this.label, command: command.name, outcome: 'refused', reply: error.reply });
      result = replyResult(error.reply) ?? 'refused';
      return this.send(error.reply);
    } finally {
      metrics.commandDone(command.name, result);
    }
  }

  /** A session whose token was revoked, expired or used up is signed out as the next command starts (one under way was let finish). */
  #signInRefusal(): string | undefined {
    const check = sessionCheck(this.session, this.#ctx.auth);
    if (check?.signOut && this.session) {
      this.#ctx.logger.info('signed-out', { client: this.label, token: this.session.label, reason: check.signOut });
      this.session = undefined;
      this.access = this.#ctx.config.openAccess;
      // The token's unfinished uploads stay its own: this connection no longer holds them.
      this.owner = OPEN_OWNER;
    }
    return check?.reply;
  }

  /** Refuses a command before it runs, counting it by the reply's kind. */
  #refuse(command: string, reply: string): Promise<void> {
    this.#ctx.metrics.commandDone(command, replyResult(reply) ?? 'refused');
    return this.send(reply);
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
    this.send(IDLE_TIMEOUT_REPLY).catch(() => {});
    this.close();
  }
}

function argumentFits(command: CommandHandler, argument: string | undefined): boolean {
  return command.takesArgument === 'optional' || command.takesArgument === (argument !== undefined);
}

function firstCommandTimeoutReply(ms: number): string {
  return errorReply(ErrorKind.IDLE_TIMEOUT, `no command within ${ms / 1000} s, closing the connection`);
}
