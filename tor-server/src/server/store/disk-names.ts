import { printable } from '../../protocol/printable.js';

// ignoreBOM: by default a decoder drops a leading U+FEFF, which would list `\uFEFFa.txt` as a second `a.txt`.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A name read from the disk as bytes, as a string; undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Bytes of a name from the disk, printable in a log or a terminal: valid UTF-8 as text, each
 * other byte as `\xNN`, control characters escaped by printable().
 */
export function escapeBytes(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes[i]!);
    const text = length > 0 && i + length <= bytes.length ? decodeUtf8(bytes.subarray(i, i + length)) : undefined;
    if (text !== undefined) {
      out += text;
      i += length;
    } else {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return printable(out);
}

/** The length of the UTF-8 sequence a lead byte starts, or 0 for a byte no sequence starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}
