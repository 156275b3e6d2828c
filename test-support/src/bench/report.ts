/** One row of a benchmark's table: a figure, and for the measures with a target, how it compares. */
export interface Row {
  name: string;
  value: string;
  ratio?: string;
  target?: string;
  verdict?: 'ok' | 'MISS';
}

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

/** Prints the table to stdout: a title line, a header, one line per row, and an optional footnote. */
export function printTable(title: string, rows: Row[], footnote?: string): void {
  const header: Row = { name: 'measure', value: 'value', ratio: 'ratio', target: 'target' };
  const widths = (['name', 'value', 'ratio', 'target'] as const).map((key) => Math.max(...[header, ...rows].map((row) => (row[key] ?? '').length)));
  const line = (row: Row, verdict: string) =>
    [row.name.padEnd(widths[0]!), row.value.padStart(widths[1]!), (row.ratio ?? '').padStart(widths[2]!), (row.target ?? '').padEnd(widths[3]!), verdict].join('  ').trimEnd();
  process.stdout.write(`\n${title}\n${line(header, '')}\n`);
  for (const row of rows) process.stdout.write(`${line(row, row.verdict ?? '')}\n`);
  if (footnote) process.stdout.write(`${footnote}\n`);
}
