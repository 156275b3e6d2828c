import type { Readable } from 'node:stream';
import type { AccessLevel, CommandName } from '../../protocol/constants.js';
import type { INVALID_LINE, RawBytes } from '../../protocol/line-reader.js';
import type { TokenRecord } from '../auth/token-file.js';
import type { ServerContext } from '../context.js';
import type { FileName } from '../store/store.js';

/** A transfer under way: its name, its size, and how far it has got. */
export type TransferActivity = { kind: 'uploading' | 'downloading'; name: string; total: number; done(): number };

/** The token a connection signed in with. */
export interface Session {
  readonly id: string;
  readonly label: string;
  readonly kind: 'token' | 'share';
  /** The one file the token may see, or undefined for all. */
  readonly only: FileName | undefined;
}

/**
 * What a command may do with its client's connection, and no more: the socket, the line reader
 * and the timers stay the connection's own.
 */
export interface CommandConnection {
  /** `address:port` of the client, for the log. */
  readonly label: string;
  /**
   * Who owns what this client begins (its resumable uploads): one owner for everyone in open
   * mode; a token's id where tokens are in use.
   */
  readonly owner: string;
  /** What this client may do (the dispatcher has already checked the command's level against it). */
  readonly access: AccessLevel;
  /** The token signed in with, or undefined before (or without) signing in. */
  readonly session: Session | undefined;
  /** The address of the person using the connection: the one a trusted proxy named with `client`, else the peer's. */
  readonly userAddress: string;
  /** Whether the peer is named in --trusted-proxies. */
  readonly fromTrustedProxy: boolean;
  /** Signs the connection in with a token: its level and limits apply from the next command on. */
  signIn(record: TokenRecord): void;
  /** Takes the end user's address from a trusted proxy's `client` line; false (and nothing changes) when one was taken already. */
  setUserAddress(address: string): boolean;
  /** Aborted when the client goes away: long work for it (hashing) stops. */
  readonly signal: AbortSignal;
  /** Sends one reply line; resolves once the connection can take more. */
  send(line: string): Promise<void>;
  /** Sends several reply lines in one write (a listing of 10,000 rows is one buffer, not 10,000 writes). */
  sendLines(lines: readonly string[]): Promise<void>;
  /**
   * Queues one line without waiting for the client to take it (a watcher's event, which must not
   * hold up the feed); returns the bytes now waiting to go out, so the caller can bound them.
   */
  sendNow(line: string): number;
  /** Ends the connection once the lines queued so far are sent; what the client still sends is dropped. */
  close(): void;
  /**
   * Reads the next line, which must be complete within `ms` (Infinity: no limit) however slowly its bytes trickle in.
   * When it is not, the client is told, the connection closes, and this resolves null (as it
   * does when the client leaves).
   */
  readLine(ms: number): Promise<string | typeof INVALID_LINE | null>;
  /** The next `size` raw bytes from the client, as a stream; command lines resume after them. */
  readBytes(size: number): RawBytes;
  /**
   * Sends exactly `count` raw bytes from `source`, with backpressure; `onBytes` sees each chunk.
   * Rejects (and destroys the source) when the connection closes or the source has more or fewer bytes.
   */
  sendBytes(source: Readable, count: number, onBytes?: (count: number) => void): Promise<void>;
  /**
   * Marks a transfer under way, for the console and the transfer-rate watch: until the returned
   * function is called, a transfer that stalls or moves too slowly is cut.
   */
  beginTransfer(activity: TransferActivity): () => void;
  /** Turns the connection's timeouts off until the command ends (for slow work the client waits on, such as fsync). */
  pauseTimeouts(): void;
  /**
   * Makes the connection a watcher until it closes: no idle timeout (TCP keep-alive finds a dead
   * peer instead), shown as watching in the console, and closed at once at shutdown.
   */
  beginWatch(): void;
  /** Cuts the connection at once. */
  cut(): void;
}

/** One TFTCP command: its word, whether it takes an argument, the access it needs, and what it does. */
export interface CommandHandler {
  readonly name: CommandName;
  /** true: exactly one argument; false: none; 'optional': either. */
  readonly takesArgument: boolean | 'optional';
  /** The least access level a client needs to run it; the dispatcher refuses the rest. */
  readonly access: AccessLevel;
  /** True for the few commands a client may send before signing in (`auth`, `client`, `exit`). */
  readonly beforeSignIn?: boolean;
  /**
   * Carries the command out, writing its replies. Throws a ReplyError to refuse it with a
   * reply line (connection stays usable); returns 'close' to end the connection.
   */
  run(conn: CommandConnection, argument: string, ctx: ServerContext): Promise<void | 'close'>;
}
