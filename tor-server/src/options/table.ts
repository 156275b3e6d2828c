import { parseArgs } from 'node:util';
import { InvalidValue, type Parser } from './parsers.js';

/** One setting a program takes: a flag, the environment variable read when the flag is absent, and a default. */
export interface Option<T> {
  /** The flag without its leading dashes, e.g. `max-clients`. */
  flag: string;
  env: string;
  /** One line for --help. */
  help: string;
  parse: Parser<T>;
  /** The value when neither the flag nor the variable is given (an empty variable counts as not given). */
  default: T;
  /** A flag that takes no value (`--tls`); its variable still does (`1`, `true`, `yes` or `0`, `false`, `no`). */
  switch?: boolean;
}

/** A program's settings by the name its code uses for each. */
export type OptionTable = Record<string, Option<unknown>>;

/** The values an {@link OptionTable} yields, by the same names. */
export type OptionValues<Table extends OptionTable> = { -readonly [Name in keyof Table]: Table[Name]['default'] };

/** Declares one option; the value's type comes from its parser, and the default must be one. */
export function option<T>(definition: Omit<Option<T>, 'default'> & { default: NoInfer<T> }): Option<T> {
  return definition;
}

/** A flag or variable with a value that makes no sense; the message says which, and what was wrong. */
export class ConfigError extends Error {
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** The defaults of a table. */
export function defaults<Table extends OptionTable>(table: Table): OptionValues<Table> {
  return Object.fromEntries(Object.entries(table).map(([name, o]) => [name, o.default])) as OptionValues<Table>;
}

/**
 * Reads flags, then environment variables, then defaults. Returns 'help' for --help or -h.
 * Throws {@link ConfigError} with `errorCode` for an unknown flag, a stray word or a value a
 * parser refuses, naming the flag and its variable.
 */
export function parseOptions<Table extends OptionTable>(table: Table, argv: string[], env: NodeJS.ProcessEnv, errorCode: string): OptionValues<Table> | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(Object.values(table).map((o) => [o.flag, { type: o.switch ? ('boolean' as const) : ('string' as const) }])), help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError((error as Error).message, errorCode);
  }
  if (values.help) return 'help';
  const result: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    const given = values[o.flag] ?? env[o.env];
    if (given === undefined || given === '') {
      result[name] = o.default;
      continue;
    }
    try {
      result[name] = o.parse(String(given));
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      throw new ConfigError(`--${o.flag} (${o.env}): "${error.text ?? String(given)}" ${error.reason}`, errorCode);
    }
  }
  return result as OptionValues<Table>;
}

/** The --help text: one line a flag, with its variable, then --help itself. */
export function usage(program: string, table: OptionTable): string {
  const options = Object.values(table);
  const width = Math.max(...options.map((o) => o.flag.length));
  const rows = options.map((o) => `  --${o.flag.padEnd(width)}  ${o.help} [env ${o.env}${o.switch ? '=1' : ''}]`);
  return [`Usage: ${program} [options]`, '', ...rows, `  --${'help'.padEnd(width)}  show this help`, ''].join('\n');
}
