import { MAX_NAME_BYTES } from './constants.js';

// U+0000–U+001F and U+007F: they would break the line format or a terminal.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Checks a file name against the TFTCP name rules.
 * Returns undefined when the name is acceptable, else the reason it is not.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `the name is longer than ${MAX_NAME_BYTES} bytes`;
  if (name.includes('/') || name.includes('\\')) return 'the name must not contain / or \\';
  if (CONTROL_CHARS.test(name)) return 'the name must not contain control characters';
  if (name === '.' || name === '..') return 'the name must not be . or ..';
  if (name.startsWith('.')) return 'names starting with . are reserved';
  // A lone surrogate has no UTF-8 form (the line reader already refuses invalid UTF-8).
  if (!name.isWellFormed()) return 'the name is not valid UTF-8';
  return undefined;
}

/** True when the name follows the TFTCP name rules. */
export function isValidFileName(name: string): boolean {
  return fileNameProblem(name) === undefined;
}
