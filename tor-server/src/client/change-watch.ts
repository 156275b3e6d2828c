import { Command, Reply } from '../protocol/constants.js';
import { parseChangeLine, type ChangeEvent } from '../protocol/changes.js';
import { TftcpProtocolError } from './errors.js';

/** What a watch needs of its client's connection. */
export interface WatchLink {
  /** The next line from the server; null once the connection has ended. */
  readLine(): Promise<string | null>;
  /** Sends one line. */
  send(line: string): Promise<void>;
  /** The server acknowledged `exit`: close the connection as a clean sign-out. */
  signOut(): void;
  /** The error for a connection lost without a sign-out. */
  lost(): Error;
  /** Closes the connection as broken, with `message`. */
  fail(message: string): TftcpProtocolError;
}

/**
 * A running `watch`: the server's changes as typed events, in the server's order, from the
 * seq after {@link seq} on. Iterate it (`for await`); breaking out of the loop, or
 * {@link close}, signs out. The watch has its connection to itself until then.
 */
export class ChangeWatch implements AsyncIterable<ChangeEvent> {
  /** The seq of the last change before this watch began (the server's `watching <seq>`). */
  readonly seq: number;
  readonly #link: WatchLink;
  #lastSeq: number;
  /** Reads one after another, whoever asks (the consumer, or close draining). */
  #reads: Promise<unknown> = Promise.resolve();
  #closing = false;
  #ended = false;
  readonly #finished: Promise<void>;
  #finish!: () => void;

  /** `since`: what the watch resumes after; until the replay after it (or a `resync`) is read, it is still lastSeq. */
  constructor(seq: number, link: WatchLink, since?: number) {
    this.seq = seq;
    this.#lastSeq = since ?? seq;
    this.#link = link;
    this.#finished = new Promise((resolve) => (this.#finish = resolve));
  }

  /** The seq of the last change delivered so far: pass it to `watch(since)` to resume after a reconnect. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Resolves once the watch is over (signed out or the connection gone). */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** The next event; `done` once the watch is closed. Rejects when the connection is lost. */
  next(): Promise<IteratorResult<ChangeEvent, undefined>> {
    const read = this.#reads.then(() => this.#readEvent());
    this.#reads = read.catch(() => {});
    return read;
  }

  [Symbol.asyncIterator](): AsyncIterator<ChangeEvent, undefined> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** Signs out: sends `exit`, drops the events still on their way, and resolves once the server has acknowledged. */
  async close(): Promise<void> {
    if (!this.#closing && !this.#ended) {
      this.#closing = true;
      await this.#link.send(Command.EXIT).catch(() => {});
    }
    while (!this.#ended) await this.next().catch(() => {});
  }

  async #readEvent(): Promise<IteratorResult<ChangeEvent, undefined>> {
    if (this.#ended) return { done: true, value: undefined };
    const line = await this.#link.readLine();
    if (line === null || line === Reply.EXIT) {
      this.#end();
      if (line === Reply.EXIT) this.#link.signOut();
      else if (!this.#closing) throw this.#link.lost();
      return { done: true, value: undefined };
    }
    const event = parseChangeLine(line, this.seq);
    if (!event) {
      this.#end();
      throw this.#link.fail(`expected a change line, got "${line.slice(0, 80)}"`);
    }
    // A resync stands for every change up to the watch's start: the listing it asks for covers them.
    this.#lastSeq = event.seq;
    return { done: false, value: event };
  }

  #end(): void {
    this.#ended = true;
    this.#finish();
  }
}
