/** The curl rows: `curl -s -o /dev/null` for a GET, `curl -s -T file` for a PUT, timed from spawn to exit. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mbps } from 'test-support/bench';

export const CURL = '/usr/bin/curl';
/** What curl prints after the transfer (`-w`): the status and the bytes moved, to check each round. */
const WRITE_OUT = '%{http_code} %{size_download} %{size_upload}';
const OK = 200;
const CREATED = 201;
/** Longest a transfer of the bench file may take before the round counts as failed. */
const CURL_MAX_SECONDS = 300;

/** True when curl is there (Debian's curl package). */
export function curlInstalled(): boolean {
  return existsSync(CURL);
}

/** `curl -s -o /dev/null <url>`, which must answer 200 with `size` bytes; MB/s, curl's start-up included. */
export async function curlGet(url: string, size: number): Promise<number> {
  const { ms, status, downloaded } = await runCurl(['-s', '-o', '/dev/null', url]);
  if (status !== OK || downloaded !== size) throw new Error(`curl GET ${url}: status ${status}, ${downloaded} of ${size} bytes`);
  return mbps(size, ms);
}

/** `curl -s -T <file> <url>` (`size` bytes), which must answer 201 having sent them all; MB/s, curl's start-up included. */
export async function curlPut(url: string, file: string, size: number): Promise<number> {
  const { ms, status, uploaded } = await runCurl(['-s', '-T', file, '-o', '/dev/null', url]);
  if (status !== CREATED || uploaded !== size) throw new Error(`curl PUT ${url}: status ${status}, ${uploaded} of ${size} bytes sent`);
  return mbps(size, ms);
}

async function runCurl(args: string[]): Promise<{ ms: number; status: number; downloaded: number; uploaded: number }> {
  const started = performance.now();
  const child = spawn(CURL, ['--max-time', String(CURL_MAX_SECONDS), '-w', WRITE_OUT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'close')) as [number | null];
  const ms = performance.now() - started;
  const [status, downloaded, uploaded] = output.trim().split(' ').map(Number);
  if (code !== 0) throw new Error(`curl ${args.join(' ')} exited ${code}: ${output.trim()}`);
  return { ms, status: status!, downloaded: downloaded!, uploaded: uploaded! };
}
