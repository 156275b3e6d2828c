import { readFile } from 'node:fs/promises';

// Linux counts a process's CPU time in clock ticks of 10 ms (USER_HZ, 100 on every Linux ABI).
const MS_PER_TICK = 10;

/** CPU time (user + system) a live process has used so far, in ms, from /proc/<pid>/stat (Linux). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}
