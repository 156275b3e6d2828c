import { readFile, readdir } from 'node:fs/promises';

/** A memory figure of a live process from /proc/<pid>/status (Linux), in bytes: VmRSS now, VmHWM the peak. */
export async function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!kb) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/** Open file descriptors of a live process now, from /proc/<pid>/fd. */
export async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}
