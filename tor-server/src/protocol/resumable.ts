import { NO_SHA256, Reply, STATUS_DETAILS } from './constants.js';
import { formatRanges, parseRanges, type ByteRange } from './ranges.js';

/** The arguments of `begin <size> <sha256-hex or -> <name>`. */
export interface BeginArguments {
  size: number;
  /** 64 lower-case hex digits, or undefined for `-`. */
  sha256: string | undefined;
  name: string;
}

const BEGIN_ARGUMENTS = /^(\d{1,16}) ([0-9a-f]{64}|-) (.+)$/s;
const PUT_ARGUMENTS = /^([a-z0-9]{1,64}) (\d{1,16}) (\d{1,16})$/;
/** Upload ids: lower-case letters and digits only. */
const UPLOAD_ID = /^[a-z0-9]{1,64}$/;

/** Parses `begin`'s argument; undefined when it is malformed. */
export function parseBeginArguments(argument: string): BeginArguments | undefined {
  const match = BEGIN_ARGUMENTS.exec(argument);
  if (!match) return undefined;
  const size = Number(match[1]);
  if (!Number.isSafeInteger(size)) return undefined;
  return { size, sha256: match[2] === NO_SHA256 ? undefined : match[2], name: match[3]! };
}

/** `begin`'s argument. */
export function formatBeginArguments({ size, sha256, name }: BeginArguments): string {
  return `${size} ${sha256 ?? NO_SHA256} ${name}`;
}

/** The arguments of `put <id> <offset> <length>`. */
export interface PutArguments {
  id: string;
  offset: number;
  length: number;
}

/** Parses `put`'s argument; undefined when it is malformed. */
export function parsePutArguments(argument: string): PutArguments | undefined {
  const match = PUT_ARGUMENTS.exec(argument);
  if (!match) return undefined;
  const offset = Number(match[2]);
  const length = Number(match[3]);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return undefined;
  return { id: match[1]!, offset, length };
}

/** True when `text` has the form of an upload id. */
export function isUploadId(text: string): boolean {
  return UPLOAD_ID.test(text);
}

/** `have <ranges>`. */
export function formatHaveLine(ranges: readonly ByteRange[]): string {
  return `${Reply.HAVE} ${formatRanges(ranges)}`;
}

/** The ranges of a `have <ranges>` line; undefined when it is not one. */
export function parseHaveLine(line: string): ByteRange[] | undefined {
  const prefix = `${Reply.HAVE} `;
  return line.startsWith(prefix) ? parseRanges(line.slice(prefix.length)) : undefined;
}

/** The id of an `upload <id>` line; undefined when it is not one. */
export function parseUploadIdLine(line: string): string | undefined {
  const prefix = `${Reply.UPLOAD_ID} `;
  const id = line.startsWith(prefix) ? line.slice(prefix.length) : '';
  return isUploadId(id) ? id : undefined;
}

/** What `status <id> details` tells of an upload beside its ranges. */
export interface PartialDetails {
  size: number;
  /** When the upload expires unless it moves again (ISO 8601, UTC). */
  expires: string;
  name: string;
}

const PARTIAL_LINE = /^partial (\d{1,16}) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.+)$/s;

/** `partial <size> <expires ISO> <name>`. */
export function formatPartialLine({ size, expires, name }: PartialDetails): string {
  return `${Reply.PARTIAL} ${size} ${expires} ${name}`;
}

/** The details of a `partial <size> <expires> <name>` line; undefined when it is not one. */
export function parsePartialLine(line: string): PartialDetails | undefined {
  const match = PARTIAL_LINE.exec(line);
  if (!match) return undefined;
  const size = Number(match[1]);
  return Number.isSafeInteger(size) ? { size, expires: match[2]!, name: match[3]! } : undefined;
}

/** What `status <id> details` tells of an upload committed a while ago. */
export interface CommittedDetails {
  size: number;
  name: string;
}

const COMMITTED_LINE = /^committed (\d{1,16}) (.+)$/s;

/** `committed <size> <name>`. */
export function formatCommittedLine({ size, name }: CommittedDetails): string {
  return `${Reply.COMMITTED} ${size} ${name}`;
}

/** The details of a `committed <size> <name>` line; undefined when it is not one. */
export function parseCommittedLine(line: string): CommittedDetails | undefined {
  const match = COMMITTED_LINE.exec(line);
  if (!match) return undefined;
  const size = Number(match[1]);
  return Number.isSafeInteger(size) ? { size, name: match[2]! } : undefined;
}

/** Splits `status`'s argument: the id, and whether ` details` follows it. */
export function parseStatusArgument(argument: string): { id: string; details: boolean } {
  const suffix = ` ${STATUS_DETAILS}`;
  return argument.endsWith(suffix) ? { id: argument.slice(0, -suffix.length), details: true } : { id: argument, details: false };
}
