import { NO_RANGES } from './constants.js';

/** Bytes [start, end) of a file: end exclusive. */
export type ByteRange = readonly [start: number, end: number];

/** `ranges` with `added` merged in: sorted, without overlaps, touching ranges joined. */
export function addRange(ranges: readonly ByteRange[], added: ByteRange): ByteRange[] {
  if (added[1] <= added[0]) return [...ranges];
  let [start, end] = added;
  const out: ByteRange[] = [];
  for (const range of ranges) {
    if (range[1] < start || range[0] > end) out.push(range);
    else {
      start = Math.min(start, range[0]);
      end = Math.max(end, range[1]);
    }
  }
  out.push([start, end]);
  return out.sort((a, b) => a[0] - b[0]);
}

/** The parts of [0, size) that `ranges` (sorted, disjoint) do not cover. */
export function missingRanges(ranges: readonly ByteRange[], size: number): ByteRange[] {
  const out: ByteRange[] = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) out.push([at, Math.min(start, size)]);
    at = Math.max(at, end);
  }
  if (at < size) out.push([at, size]);
  return out;
}

/** Bytes the ranges (disjoint) cover. */
export function coveredBytes(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, [start, end]) => sum + end - start, 0);
}

/** True when [start, end) and `other` share a byte. */
export function overlaps(range: ByteRange, other: ByteRange): boolean {
  return range[0] < other[1] && other[0] < range[1];
}

/** `0-100,200-300`, or `none`. */
export function formatRanges(ranges: readonly ByteRange[]): string {
  return ranges.length === 0 ? NO_RANGES : ranges.map(([start, end]) => `${start}-${end}`).join(',');
}

const RANGE = /^(\d{1,16})-(\d{1,16})$/;

/** Parses formatRanges' text; undefined when it is malformed (a range empty, reversed, out of order or overlapping). */
export function parseRanges(text: string): ByteRange[] | undefined {
  if (text === NO_RANGES) return [];
  const out: ByteRange[] = [];
  for (const part of text.split(',')) {
    const match = RANGE.exec(part);
    if (!match) return undefined;
    const start = Number(match[1]);
    const end = Number(match[2]);
    if (!Number.isSafeInteger(end) || end <= start || (out.length > 0 && start <= out[out.length - 1]![1])) return undefined;
    out.push([start, end]);
  }
  return out;
}
