/**
 * The `tor-client download` row: the CLI as a user runs it (a child process saving into a
 * tmpfs home), beside a raw socket reader fetching the same file from the same server, in
 * interleaved rounds. Run alone with `npm run bench:client`; `npm run bench:table` has the same
 * rows beside nginx.
 */
import { execFileSync } from 'node:child_process';
import { TOR_CLIENT_BIN } from 'test-support';
import { cliDownload, log, memoryRow, ratioRow, rawSocketDownload, type Row } from 'test-support/bench';

const CLIENT_RSS_LIMIT_MB = 120;
/** The CLI's share of what the raw reader reaches (issue 11: ≥ 0.8 of nginx, which the raw reader matches). */
const CLIENT_TARGET = 0.8;
const STARTUP_RUNS = 3;

/** One round's figures for each path. */
interface Round {
  raw: number;
  cli: number;
  cliPeakRss: number;
}

/**
 * Times `rounds` interleaved pairs (raw reader, then tor-client) downloading `name` (`size`
 * bytes) from the server on `port`; `home` is the tor-client's home (tmpfs). Returns the
 * table rows: best round of each with the spread, the ratio, and the client's peak RSS.
 */
export async function cliDownloadRows(port: number, name: string, size: number, home: string, rounds: number): Promise<Row[]> {
  const results: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const raw = await rawSocketDownload(port, name, size);
    const { mbps: cli, peakRss } = await cliDownload(port, name, size, home);
    log(`  round ${i + 1}: raw reader ${raw.toFixed(0)} MB/s, tor-client ${cli.toFixed(0)} MB/s (peak RSS ${(peakRss / 1024 ** 2).toFixed(0)} MB)`);
    results.push({ raw, cli, cliPeakRss: peakRss });
  }
  const raws = results.map((r) => r.raw);
  const clis = results.map((r) => r.cli);
  const bestRaw = Math.max(...raws);
  const bestCli = Math.max(...clis);
  return [
    { name: 'tor-client start-up (--help; part of each round below)', value: `${startupMs().toFixed(0)} ms` },
    { name: `TFTCP download, raw socket reader (spread ${spread(raws)})`, value: `${bestRaw.toFixed(0)} MB/s` },
    { ...ratioRow('tor-client download (tmpfs home)', bestCli, bestRaw, CLIENT_TARGET), name: `tor-client download, tmpfs home (spread ${spread(clis)})` },
    memoryRow('tor-client peak RSS', Math.max(...results.map((r) => r.cliPeakRss)), CLIENT_RSS_LIMIT_MB),
  ];
}

/** The best of a few `tor-client --help` runs: the process start-up each CLI round pays. */
function startupMs(): number {
  let best = Infinity;
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const started = performance.now();
    execFileSync(process.execPath, [TOR_CLIENT_BIN, '--help'], { stdio: 'ignore' });
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** "min–max" of a set of MB/s figures. */
function spread(values: number[]): string {
  return `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
}
