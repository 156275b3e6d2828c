/** A command line split into its word and its argument. */
export interface CommandLine {
  command: string;
  /** Everything after the first space, verbatim; undefined when there is none or it is empty. */
  argument: string | undefined;
}

/** Splits `<command>` or `<command> <argument>`; the argument keeps its spaces. */
export function parseCommandLine(line: string): CommandLine {
  const space = line.indexOf(' ');
  if (space === -1) return { command: line, argument: undefined };
  const argument = line.slice(space + 1);
  return { command: line.slice(0, space), argument: argument === '' ? undefined : argument };
}

/** The arguments of `range <offset> <length> <name>`. */
export interface RangeArguments {
  offset: number;
  length: number;
  name: string;
}

const RANGE_ARGUMENTS = /^(\d{1,16}) (\d{1,16}) (.+)$/s;

/** Parses the argument of a `range` command; undefined when it is malformed. */
export function parseRangeArguments(argument: string): RangeArguments | undefined {
  const match = RANGE_ARGUMENTS.exec(argument);
  if (!match) return undefined;
  const offset = Number(match[1]);
  const length = Number(match[2]);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return undefined;
  return { offset, length, name: match[3]! };
}

const SIZE = /^\d{1,16}$/;

/** Parses a size line (a decimal byte count); undefined when it is not one. */
export function parseSize(line: string): number | undefined {
  if (!SIZE.test(line)) return undefined;
  const size = Number(line);
  return Number.isSafeInteger(size) ? size : undefined;
}
