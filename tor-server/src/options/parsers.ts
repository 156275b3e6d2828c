/**
 * Thrown by a parser for text it cannot read. `reason` completes the sentence
 * `--flag (ENV): "<text>" <reason>`; `text` is the offending part when it is not the whole value
 * (one item of a list).
 */
export class InvalidValue extends Error {
  readonly reason: string;
  readonly text: string | undefined;

  constructor(reason: string, text?: string) {
    super(reason);
    this.reason = reason;
    this.text = text;
  }
}

/** Turns an option's text (never empty) into its value, or throws {@link InvalidValue}. */
export type Parser<T> = (text: string) => T;

const MAX_PORT = 65535;
const MS_PER_SECOND = 1000;

/** Any text, as given. */
export const text: Parser<string> = (value) => value;

/** A TCP port to listen on or connect to, 0 to 65535 (0: the system picks a free one). */
export const port: Parser<number> = (value) => {
  if (!/^\d+$/.test(value) || Number(value) > MAX_PORT) throw new InvalidValue('is not a valid value');
  return Number(value);
};

/** A whole number of at least 1: a count of connections, sessions, clients. */
export const count: Parser<number> = (value) => {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) throw new InvalidValue('is not a whole number of at least 1');
  return number;
};

/** Seconds, fractions allowed, as milliseconds; `above0` refuses 0 (a timeout of nothing). */
export function seconds(options: { above0: boolean }): Parser<number> {
  return (value) => {
    if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidValue('is not a number of seconds');
    const number = Number(value);
    if (options.above0 && number === 0) throw new InvalidValue('is not a number of seconds above 0');
    return number * MS_PER_SECOND;
  };
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses `1048576`, `512K`, `100M`, `16G`, `1T` (binary units, optional trailing B). */
export function parseByteSize(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(value.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte count, plain or with a K/M/G/T suffix (binary units). */
export const byteSize: Parser<number> = (value) => {
  const bytes = parseByteSize(value);
  if (bytes === undefined) throw new InvalidValue('is not a size in bytes, such as 65536, 512K, 100M or 16G');
  return bytes;
};

const YES = ['1', 'true', 'yes', 'on'];
const NO = ['0', 'false', 'no', 'off'];

/** A switch: a flag given alone reads as `true`; a variable says 1/true/yes/on or 0/false/no/off. */
export const yesNo: Parser<boolean> = (value) => {
  const word = value.toLowerCase();
  if (YES.includes(word)) return true;
  if (NO.includes(word)) return false;
  throw new InvalidValue('is not one of 1, true, yes, on, 0, false, no, off');
};

/** One of a fixed set of words. */
export function oneOf<const Word extends string>(words: readonly Word[]): Parser<Word> {
  return (value) => {
    if (!(words as readonly string[]).includes(value)) throw new InvalidValue(`is not one of ${words.join(', ')}`);
    return value as Word;
  };
}

/** A comma-separated list, blanks around items and empty items dropped, each item read by `item`. */
export function list<T>(item: Parser<T>): Parser<T[]> {
  return (value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => {
        try {
          return item(part);
        } catch (error) {
          if (error instanceof InvalidValue) throw new InvalidValue(error.reason, error.text ?? part);
          throw error;
        }
      });
}
