import { Reply, parseAccessLevel, type AccessLevel } from './constants.js';
import { formatFileRow, parseFileRow, type FileEntry } from './file-row.js';
import { fileNameProblem } from './names.js';

/** The words that start a watch's event lines. */
export const ChangeWord = {
  ADDED: 'added',
  REMOVED: 'removed',
  RENAMED: 'renamed',
} as const;

/**
 * One change to the server's files, as a watcher sees it. `seq` rises by one per change,
 * server-wide. `added` also stands for a file whose row changed (replaced on disk by hand).
 * `resync` is no change but the news that some were missed: list again; its `seq` is the
 * watch's start seq.
 */
export type ChangeEvent =
  | { type: 'added'; seq: number; entry: FileEntry }
  | { type: 'removed'; seq: number; name: string }
  | { type: 'renamed'; seq: number; from: string; to: string; entry?: FileEntry }
  | { type: 'resync'; seq: number };

/** A change that really happened to a file (every ChangeEvent but `resync`). */
export type FileChange = Exclude<ChangeEvent, { type: 'resync' }>;

const SEQ = /^\d{1,16}$/;

/** Parses a change sequence number (decimal, a safe integer); undefined when it is not one. */
export function parseSeq(text: string): number | undefined {
  if (!SEQ.test(text)) return undefined;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** Formats a change as its event line: `added <seq>\t<row>`, `removed <seq>\t<name>`, `renamed <seq>\t<old>\t<new>`. */
export function formatChangeLine(change: FileChange): string {
  switch (change.type) {
    case 'added':
      return `${ChangeWord.ADDED} ${change.seq}\t${formatFileRow(change.entry)}`;
    case 'removed':
      return `${ChangeWord.REMOVED} ${change.seq}\t${change.name}`;
    case 'renamed':
      return `${ChangeWord.RENAMED} ${change.seq}\t${change.from}\t${change.to}`;
  }
}

/**
 * Parses an event line of a watch; `resync` comes back with `resyncSeq` as its seq. Undefined
 * for a line that is none of them.
 */
export function parseChangeLine(line: string, resyncSeq = 0): ChangeEvent | undefined {
  if (line === Reply.RESYNC) return { type: 'resync', seq: resyncSeq };
  const space = line.indexOf(' ');
  const tab = line.indexOf('\t');
  if (space === -1 || tab < space) return undefined;
  const word = line.slice(0, space);
  const seq = parseSeq(line.slice(space + 1, tab));
  const rest = line.slice(tab + 1);
  if (seq === undefined) return undefined;
  switch (word) {
    case ChangeWord.ADDED: {
      const entry = parseFileRow(rest);
      return entry && { type: 'added', seq, entry };
    }
    case ChangeWord.REMOVED:
      return fileNameProblem(rest) === undefined ? { type: 'removed', seq, name: rest } : undefined;
    case ChangeWord.RENAMED: {
      const names = parseRenameArgument(rest);
      return names && { type: 'renamed', seq, from: names.from, to: names.to };
    }
    default:
      return undefined;
  }
}

/** The argument of `rename`: the old name, a TAB, the new name (names cannot hold a TAB). */
export function formatRenameArgument(from: string, to: string): string {
  return `${from}\t${to}`;
}

/**
 * Splits `rename`'s argument into its two names; undefined unless there is exactly one TAB.
 * The names themselves are not checked here: that is the receiver's name check.
 */
export function parseRenameArgument(argument: string): { from: string; to: string } | undefined {
  const parts = argument.split('\t');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return { from: parts[0]!, to: parts[1]! };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `hash`'s answer line: `sha256 <hex>`. */
export function formatHashLine(hex: string): string {
  return `${Reply.SHA256} ${hex}`;
}

/** The hex digest of a `sha256 <hex>` line; undefined for any other line. */
export function parseHashLine(line: string): string | undefined {
  const prefix = `${Reply.SHA256} `;
  if (!line.startsWith(prefix)) return undefined;
  const hex = line.slice(prefix.length);
  return SHA256_HEX.test(hex) ? hex : undefined;
}

/** `whoami`'s answer line: `access <level>`. */
export function formatAccessLine(level: AccessLevel): string {
  return `${Reply.ACCESS} ${level}`;
}

/** The level of an `access <level>` line; undefined for any other line. */
export function parseAccessLine(line: string): AccessLevel | undefined {
  const prefix = `${Reply.ACCESS} `;
  return line.startsWith(prefix) ? parseAccessLevel(line.slice(prefix.length)) : undefined;
}

/** A watch's start line: `watching <seq>`, the seq of the last change so far. */
export function formatWatchingLine(seq: number): string {
  return `${Reply.WATCHING} ${seq}`;
}

/** The seq of a `watching <seq>` line; undefined for any other line. */
export function parseWatchingLine(line: string): number | undefined {
  const prefix = `${Reply.WATCHING} `;
  return line.startsWith(prefix) ? parseSeq(line.slice(prefix.length)) : undefined;
}
