/**
 * `npm run bench:table` (and first in `npm run bench`): every path a file can take, beside
 * nginx from Debian serving and storing the same file, in one run of interleaved rounds on
 * tmpfs and 127.0.0.1 (issue 11). BENCH_SIZE (bytes, default 1 GiB), BENCH_ROUNDS (default 3) and BENCH_ONLY
 * (comma-separated words: only the paths whose names contain one, with their references).
 */
import os from 'node:os';
import { Scope } from 'test-support';
import { NGINX_MISSING, busyStartWarning, log, nginxVersion, printTable, type Row } from 'test-support/bench';
import { CURL, curlInstalled } from './curl.js';
import { describePeaks, peakResets, RSS_LIMIT_MB } from './memory.js';
import { benchPaths, SMALL_LOAD } from './paths.js';
import { runRounds, summarize, type BenchPath, type Summary } from './rounds.js';
import { startStack } from './stack.js';
import { verifyDownloads } from './verify.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** A spread, (max − min) / max, beyond which a path's rounds disagree too much to trust its best. */
const MAX_SPREAD = 0.25;

async function main(): Promise<void> {
  if (!Number.isSafeInteger(SIZE) || SIZE <= 0) throw new Error(`BENCH_SIZE must be a positive number of bytes, not ${process.env.BENCH_SIZE}`);
  if (!Number.isSafeInteger(ROUNDS) || ROUNDS <= 0) throw new Error(`BENCH_ROUNDS must be a positive count, not ${process.env.BENCH_ROUNDS}`);
  if (!curlInstalled()) throw new Error(`${CURL} not found: apt-get install curl`);
  const cores = os.cpus().length;
  const loadBefore = os.loadavg();
  const notes: string[] = [];
  const scope = new Scope();
  let rows: Row[];
  let base: string;
  let reference: string;
  let ratioHeader: string;
  try {
    const stack = await startStack(scope, SIZE);
    if (!stack.onTmpfs) notes.push(`WARNING: no tmpfs here: the files are in ${stack.base} on disk, so the disk (and the tor-server's fsync, which nginx does not do) is in every upload figure`);
    await verifyDownloads(stack);
    base = stack.base;
    ratioHeader = stack.nginx ? 'ratio to nginx' : 'ratio to baseline';
    reference = stack.nginx ? `${nginxVersion()} from Debian (sendfile GET, dav PUT), one worker` : 'the raw Node baseline (a node process piping the file into a socket), nginx not being installed';
    if (!stack.nginx) notes.push(`SKIPPED: nginx reference (${NGINX_MISSING}); ratios are against the raw Node baseline`);
    if (!(await peakResets(stack.tor.child.pid!))) notes.push('WARNING: writing 5 to /proc/<pid>/clear_refs does not reset VmHWM here: each peak RSS is the process\'s peak so far, not the row\'s');
    for (const note of notes) log(note);
    const paths = benchPaths(stack, scope);
    log(`${ROUNDS} interleaved rounds of ${paths.length} paths`);
    const summaries = new Map((await runRounds(paths, ROUNDS)).map((result) => [result.path.name, { path: result.path, summary: summarize(result) }]));
    rows = [...summaries.values()].map(({ path, summary }) => row(path, summary, summaries.get(path.against?.reference ?? '')?.summary));
    const disturbed = [...summaries.values()].filter(({ summary }) => summary.spread > MAX_SPREAD).map(({ path, summary }) => `${path.name} ${(summary.spread * 100).toFixed(0)}%`);
    if (disturbed.length > 0) notes.push(`WARNING: rounds disagree by more than ${MAX_SPREAD * 100}% (${disturbed.join('; ')}): the run was disturbed and those figures may be low; run again when the machine is quiet`);
  } finally {
    await scope.close();
  }
  const loadAfter = os.loadavg();
  const busy = busyStartWarning(loadBefore[0]!, cores);
  if (busy) notes.push(busy);
  const load = (figures: number[]) => figures.map((figure) => figure.toFixed(2)).join(' ');
  printTable(
    `bench table: ${sizeText(SIZE)} file on tmpfs (${base}), 127.0.0.1, ${cores} cores, Node ${process.version}, load average ${load(loadBefore)} before, ${load(loadAfter)} after`,
    rows,
    [
      `best of ${ROUNDS} interleaved rounds (each round runs every path once, in turn), spread min–max of the rounds; curl's start-up is in every curl round, tor-client's in its own.`,
      `ratios: against ${reference}; uploads are checked (sha256) and deleted after each round.`,
      `small files: ${SMALL_LOAD.connections} kept-alive connections, counted for ${SMALL_LOAD.durationMs / 1000} s after ${SMALL_LOAD.warmupMs / 1000} s of warm-up, only 200s with the right body; p50/p99 per request.`,
      `peak RSS (VmHWM, reset before each run): limits tor-server < ${RSS_LIMIT_MB['tor-server']} MB, gateway < ${RSS_LIMIT_MB.gateway} MB, tor-client < ${RSS_LIMIT_MB['tor-client']} MB; OVER marks a figure beyond its limit.`,
      ...notes,
    ].join('\n'),
    { name: 'path', ratio: ratioHeader },
  );
}

/** A path's table row: its best round, the spread, the ratio to its reference beside the target, and its peak RSS. */
function row(path: BenchPath, summary: Summary, reference: Summary | undefined): Row {
  const digits = path.unit === 'ms' ? 2 : 0;
  const errors = summary.errors ? `, ${summary.errors} errors in ${summary.errorRounds} of the rounds` : '';
  const latency = summary.best.p50 === undefined ? '' : `, p50 ${summary.best.p50.toFixed(2)} / p99 ${summary.best.p99!.toFixed(2)} ms${errors}`;
  const value = path.unit === 'ms' ? `p50 ${summary.best.p50!.toFixed(2)} / p99 ${summary.best.p99!.toFixed(2)} ms` : `${summary.best.value.toFixed(digits)} ${path.unit}${latency}`;
  const memory = describePeaks(summary.peaks);
  const result: Row = { name: path.name, value, spread: `${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)}`, memory };
  if (path.reference) return { ...result, ratio: '1.00', target: 'reference' };
  if (!path.against) return { ...result, target: path.unit === 'ms' ? '(report)' : '(needs nginx)' };
  if (!reference) throw new Error(`${path.name}: no reference row "${path.against.reference}"`);
  const ratio = summary.best.value / reference.best.value;
  const { target, note } = path.against;
  const targetText = [target === undefined ? '' : `≥ ${target}`, note ?? ''].filter(Boolean).join(' ');
  // Wrong answers in any round fail the row, whatever its best round's speed.
  const met = ratio >= (target ?? 0) && summary.errors === 0;
  return { ...result, ratio: ratio.toFixed(2), target: targetText, verdict: target === undefined ? undefined : met ? 'ok' : 'MISS' };
}

/** "1 GiB", "256 MiB". */
function sizeText(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(2)} GiB` : `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
