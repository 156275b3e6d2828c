/** The outcome of reading a `Range` header against a file of a known size. */
export type RangeRequest =
  /** Serve the whole file: no header, one we do not support (several ranges), or a malformed one. */
  | { kind: 'full' }
  /** Serve bytes [start, end], inclusive, as a 206. */
  | { kind: 'partial'; start: number; end: number }
  /** No byte of the file is in the range: 416. */
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/*
 * Hand-written rather than `range-parser`: its answer -1 ("unsatisfiable") also covers a
 * suffix longer than the file (`bytes=-1000` of 100 bytes, which RFC 9110 §14.1.2 serves
 * whole as 206) and an invalid `bytes=5-2` (which the RFC ignores, serving 200), and 2.x
 * needs Node 22 while the project supports Node 20. test/lib/range.test.ts holds both cases.
 */

/**
 * Reads a single byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) per RFC 9110 §14.
 * Several ranges are answered with the whole file, which the RFC allows; a header that does
 * not parse is ignored, as the RFC requires.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE.exec(header.trim().replace(/\s+/g, ''));
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last n bytes.
    const count = Number(last);
    if (!Number.isSafeInteger(count)) return { kind: 'full' };
    if (count === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - count), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  // `a-b` with b < a is not a valid range at all, so it is ignored rather than refused.
  if (!Number.isSafeInteger(start) || !(Number.isSafeInteger(end) || end === Infinity) || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
