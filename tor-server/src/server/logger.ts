import { printable } from '../protocol/printable.js';
import type { LogLevel } from './config.js';

export type LogFields = Record<string, string | number | boolean | undefined>;

/** A structured logger: one logfmt line per event (`time level event key=value ...`). */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Makes a logger that writes lines at or above `level` through `write`. */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const at = (lineLevel: Exclude<LogLevel, 'silent'>) => (event: string, fields: LogFields = {}) => {
    if (RANK[lineLevel] < RANK[level]) return;
    write(`${new Date().toISOString()} ${lineLevel} ${event}${formatFields(fields)}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function formatFields(fields: LogFields): string {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    // JSON escapes C0 controls; printable() then escapes what JSON lets through (C1, bidi overrides).
    out += ` ${key}=${/^[\w.:/@%+-]+$/.test(text) ? text : printable(JSON.stringify(text))}`;
  }
  return out;
}

/** A logger that drops everything, for embedding and tests. */
export const silentLogger: Logger = createLogger('silent');
