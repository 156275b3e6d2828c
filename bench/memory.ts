/** Peak RSS of the processes on each path: reset before the path runs, read after it. */
import { writeFile } from 'node:fs/promises';
import { memoryOf } from 'test-support';

/** The processes whose memory the table reports, with the limits in MB. */
export const RSS_LIMIT_MB = { 'tor-server': 150, gateway: 200, 'tor-client': 120 } as const;
export type Program = keyof typeof RSS_LIMIT_MB;
/** Peak RSS in bytes of each program on a path. */
export type Peaks = Partial<Record<Program, number>>;

/** Writing this to /proc/<pid>/clear_refs resets the process's VmHWM to its RSS now (Linux ≥ 4.0). */
const RESET_PEAK = '5';
/** How far above RSS a just-reset peak may read (the process kept running between the two reads). */
const RESET_SLACK_BYTES = 4 * 1024 ** 2;

/** Starts a new peak for a long-running process, where the kernel allows it (`peakResets` tells). */
export async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, RESET_PEAK).catch(() => {});
}

/** True when resetting the peak works on this machine: right after the reset, VmHWM is RSS again. */
export async function peakResets(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, RESET_PEAK);
    const [peak, now] = [await memoryOf(pid, 'VmHWM'), await memoryOf(pid, 'VmRSS')];
    return peak <= now + RESET_SLACK_BYTES;
  } catch {
    return false;
  }
}

/** The larger of two sets of peaks, program by program. */
export function higherPeaks(a: Peaks, b: Peaks): Peaks {
  const peaks: Peaks = { ...a };
  for (const [program, bytes] of Object.entries(b) as [Program, number][]) peaks[program] = Math.max(peaks[program] ?? 0, bytes);
  return peaks;
}

/** "tor-server 61 MB, gateway 212 MB OVER": each program's peak, flagged beyond its limit. */
export function describePeaks(peaks: Peaks): string | undefined {
  const parts = (Object.entries(peaks) as [Program, number][]).map(([program, bytes]) => {
    const mb = bytes / 1024 ** 2;
    return `${program} ${mb.toFixed(0)} MB${mb < RSS_LIMIT_MB[program] ? '' : ' OVER'}`;
  });
  return parts.length === 0 ? undefined : parts.join(', ');
}
