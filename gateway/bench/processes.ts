import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Starts one of our bins (recorded in `children`, to stop them all at the end) and parses the port from its listening line. */
export async function startProcess(children: ChildProcess[], bin: string, args: string[], listening: RegExp, nodeFlags: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeFlags, bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  for await (const chunk of child.stdout!) {
    output += chunk;
    const match = listening.exec(output);
    if (match) {
      child.stdout!.resume();
      return { child, port: Number(match[1]) };
    }
  }
  throw new Error(`${path.basename(bin)} did not start: ${output}`);
}
