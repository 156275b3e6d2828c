/** One row of a benchmark's table: a figure, and for the measures with a target, how it compares. */
export interface Row {
  name: string;
  value: string;
  /** The rounds' min–max, beside the best round's value. */
  spread?: string;
  ratio?: string;
  target?: string;
  /** Peak RSS of the processes on the path, each flagged when over its limit. */
  memory?: string;
  verdict?: 'ok' | 'MISS';
}

type Column = Exclude<keyof Row, 'verdict'>;
const COLUMNS: Column[] = ['name', 'value', 'spread', 'ratio', 'target', 'memory'];
/** Columns whose figures line up on the right. */
const NUMERIC = new Set<Column>(['value', 'spread', 'ratio']);
const HEADER: Record<Column, string> = { name: 'measure', value: 'value', spread: 'spread', ratio: 'ratio', target: 'target', memory: 'peak RSS' };

/** Megabytes (1e6 bytes) per second. */
export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** A throughput row as a ratio against a reference measured in the same run (ratios travel between machines; absolute figures do not). */
export function ratioRow(name: string, value: number, reference: number, target: number): Row {
  const ratio = value / reference;
  return { name, value: `${value.toFixed(0)} MB/s`, ratio: ratio.toFixed(2), target: `≥ ${target}`, verdict: ratio >= target ? 'ok' : 'MISS' };
}

/** A row for a count that must be zero (errors, failed sessions). */
export function zeroRow(name: string, errors: number, ms: number): Row {
  return { name, value: `${errors} errors in ${(ms / 1000).toFixed(1)} s`, target: '0 errors', verdict: errors === 0 ? 'ok' : 'MISS' };
}

/** A row for a peak memory figure with an upper bound, both in MB. */
export function memoryRow(name: string, bytes: number, limitMb: number): Row {
  const mb = bytes / 1024 ** 2;
  return { name, value: `${mb.toFixed(0)} MB`, target: `< ${limitMb} MB`, verdict: mb < limitMb ? 'ok' : 'MISS' };
}

/** Progress on stderr, so stdout holds only the table. */
export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/**
 * Prints the table to stdout: a title line, a header, one line per row, and an optional
 * footnote. The spread and peak RSS columns appear when some row has them; `header` renames
 * columns.
 */
export function printTable(title: string, rows: Row[], footnote?: string, header: Partial<Record<Column, string>> = {}): void {
  const heading: Row = { ...HEADER, ...header };
  const columns = COLUMNS.filter((key) => key === 'name' || key === 'value' || key === 'ratio' || key === 'target' || rows.some((row) => row[key] !== undefined));
  const widths = columns.map((key) => Math.max(...[heading, ...rows].map((row) => (row[key] ?? '').length)));
  const line = (row: Row, verdict: string) =>
    [...columns.map((key, i) => (NUMERIC.has(key) ? (row[key] ?? '').padStart(widths[i]!) : (row[key] ?? '').padEnd(widths[i]!))), verdict].join('  ').trimEnd();
  process.stdout.write(`\n${title}\n${line(heading, '')}\n`);
  for (const row of rows) process.stdout.write(`${line(row, row.verdict ?? '')}\n`);
  if (footnote) process.stdout.write(`${footnote}\n`);
}

/** A 1-minute load average beyond this share of the cores means neighbours were busy. */
const MAX_LOAD_PER_CORE = 0.5;

/** The WARNING line for a run that began on a busy machine (`why` says what may be busy), or undefined. */
export function busyStartWarning(loadAtStart: number, cores: number, why = ''): string | undefined {
  if (loadAtStart <= cores * MAX_LOAD_PER_CORE) return undefined;
  return `WARNING: load average ${loadAtStart.toFixed(2)} at the start on ${cores} cores${why}: the run was disturbed and the figures may be low; run again when the machine is quiet`;
}
