import { MAX_NAME_BYTES } from './constants.js';

// C0 controls, DEL and C1 controls (U+0080–U+009F): they would break the line format, or reach
// an operator's terminal as escape sequences (U+009B is a one-character CSI).
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// Bidirectional embeddings, overrides and isolates: they make `invoice‮fdp.exe` look like `invoiceexe.pdf`.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
// U+FEFF, invisible, and dropped by many UTF-8 decoders at the start of a text: `\uFEFFa.txt` would pass for `a.txt`.
const BYTE_ORDER_MARK = '\ufeff';

/**
 * Checks a file name against the TFTCP name rules.
 * Returns undefined when the name is acceptable, else the reason it is not.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.includes('/') || name.includes('\\')) return 'the name must not contain / or \\';
  if (CONTROL_CHARS.test(name)) return 'the name must not contain control characters';
  if (BIDI_CONTROLS.test(name)) return 'the name must not contain bidirectional control characters';
  if (name.includes(BYTE_ORDER_MARK)) return 'the name must not contain a byte order mark (U+FEFF)';
  if (name === '.' || name === '..') return 'the name must not be . or ..';
  if (name.startsWith('.')) return 'names starting with . are reserved';
  // A lone surrogate has no UTF-8 form (the line reader already refuses invalid UTF-8).
  if (!name.isWellFormed()) return 'the name is not valid UTF-8';
  return undefined;
}
