import { formatFileRow, type FileEntry } from '../protocol/file-row.js';
import { printable } from '../protocol/printable.js';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1234567 → "1.2 MB" (decimal units, as transfer rates are quoted). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds → "0:07", "12:34", "1:02:03"; "--:--" when unknown. */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** An ISO time → "2026-11-25 08:40" in local time. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The listing as an aligned table with a summary line; names are escaped for the terminal. */
export function formatTable(entries: FileEntry[]): string {
  if (entries.length === 0) return 'No files.';
  const rows = entries.map((e) => [printable(e.name), formatBytes(e.size), formatDate(e.modified)] as const);
  const nameWidth = Math.max(4, ...rows.map((r) => r[0].length));
  const sizeWidth = Math.max(4, ...rows.map((r) => r[1].length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(nameWidth)}  ${b.padStart(sizeWidth)}  ${c}`;
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  const count = `${entries.length} ${entries.length === 1 ? 'file' : 'files'}, ${formatBytes(total)}`;
  return [line('Name', 'Size', 'Modified'), ...rows.map((r) => line(...r)), count].join('\n');
}

/**
 * The listing as tab-separated rows in the protocol's row format, for scripts; a control
 * character in a field is escaped, so it cannot break a row.
 */
export function formatTsv(entries: FileEntry[]): string {
  return entries.map((e) => formatFileRow({ name: printable(e.name), size: e.size, modified: printable(e.modified) })).join('\n');
}

/** Time since `started` (performance.now() time), as `1.2 s`. */
export function elapsed(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}
