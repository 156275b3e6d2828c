/** Human-readable sizes, rates, durations and times for the file list and the transfer panel. */

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;
// Decimal units, as file managers and browsers' download shelves show them.
const UNIT_STEP = 1000;

/** Formats a byte count: `0 B`, `512 B`, `1.5 kB`, `23 MB`, `1.2 GB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= UNIT_STEP && unit < SIZE_UNITS.length - 1) {
    value /= UNIT_STEP;
    unit += 1;
  }
  // 999.95 kB would print as "1000 kB": carry it to the next unit instead.
  if (unit < SIZE_UNITS.length - 1 && roundForDisplay(value) >= UNIT_STEP) {
    value /= UNIT_STEP;
    unit += 1;
  }
  return `${unit === 0 ? value : roundForDisplay(value)} ${SIZE_UNITS[unit]}`;
}

function roundForDisplay(value: number): number {
  return value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** Formats a transfer rate in bytes per second, or a dash when it is not known yet. */
export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null || !Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Formats a remaining time in seconds: `4 s`, `2 min 5 s`, `1 h 3 min`; a dash when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const total = Math.ceil(seconds);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) {
    const rest = total % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(minutes / 60);
  const restMinutes = minutes % 60;
  return restMinutes === 0 ? `${hours} h` : `${hours} h ${restMinutes} min`;
}

const RELATIVE_STEPS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];
const JUST_NOW_SECONDS = 45;
const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** Formats a time relative to `now`: `just now`, `5 minutes ago`, `yesterday`, `3 months ago`. */
export function formatRelativeTime(time: Date | string, now: number = Date.now()): string {
  const then = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(then)) return '—';
  let amount = (then - now) / 1000;
  // A clock a little ahead of ours (or a file written this instant) still reads "just now".
  if (Math.abs(amount) < JUST_NOW_SECONDS || amount > 0) return 'just now';
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return relativeFormat.format(Math.round(amount), unit);
    amount /= size;
  }
  return relativeFormat.format(Math.round(amount), 'year');
}

const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Formats a time exactly, in the reader's locale and time zone (shown on hover). */
export function formatExactTime(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  return Number.isNaN(date.getTime()) ? '—' : exactFormat.format(date);
}

/** Formats a whole-number percentage of done/total, never claiming 100 before it is (0 of 0 is 0%). */
export function formatPercent(done: number, total: number): string {
  if (total <= 0) return '0%';
  const percent = Math.floor((done / total) * 100);
  return `${Math.min(100, Math.max(0, percent))}%`;
}
