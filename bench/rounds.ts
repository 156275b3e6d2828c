/** Interleaved rounds: each round runs every path once, in turn, so all see the same machine. */
import { log } from 'test-support/bench';
import { memoryOf } from 'test-support';
import { higherPeaks, resetPeak, type Peaks, type Program } from './memory.js';

/** Throughputs are better high, latencies low. */
export type Unit = 'MB/s' | 'req/s' | 'ms';

/** One run of one path: its figure (and latencies, for the request rows) and the peak RSS of the programs on it. */
export interface Sample {
  value: number;
  p50?: number;
  p99?: number;
  /** Wrong answers or broken connections in a load run (each cost the figure a request). */
  errors?: number;
  peaks: Peaks;
}

/** One way of moving bytes that the table measures. */
export interface BenchPath {
  name: string;
  unit: Unit;
  /** A reference row (nginx, or the raw Node baseline without it): others are ratios of it. */
  reference?: boolean;
  /** The reference this row is a ratio of (its name), the target for that ratio (none: shown for comparison), and a note beside the target. */
  against?: { reference: string; target?: number; note?: string };
  /** Long-running programs on the path: their peak RSS is reset before each run and read after it. */
  watched: { program: Program; pid: number }[];
  /** One run; `peaks` for the programs the run itself starts (tor-client). */
  measure(): Promise<Omit<Sample, 'peaks'> & { peaks?: Peaks }>;
}

/** A path's samples, one a round. */
export interface PathResult {
  path: BenchPath;
  samples: Sample[];
}

/** The best round of a path (the closest to what it can do), the spread of its figures, and the highest peak RSS of any round. */
export interface Summary {
  best: Sample;
  min: number;
  max: number;
  /** (max − min) / max. */
  spread: number;
  peaks: Peaks;
  /** Wrong answers and broken connections over all rounds, and in how many rounds there were any. */
  errors: number;
  errorRounds: number;
}

/** Runs every path once a round, `rounds` times, logging each figure as it comes. */
export async function runRounds(paths: BenchPath[], rounds: number): Promise<PathResult[]> {
  const results = paths.map((path) => ({ path, samples: [] as Sample[] }));
  for (let round = 1; round <= rounds; round++) {
    for (const result of results) {
      const { path } = result;
      for (const { pid } of path.watched) await resetPeak(pid);
      const sample = await path.measure();
      let peaks: Peaks = sample.peaks ?? {};
      for (const { program, pid } of path.watched) peaks = higherPeaks(peaks, { [program]: await memoryOf(pid, 'VmHWM') });
      result.samples.push({ ...sample, peaks });
      const latency = sample.p50 === undefined ? '' : ` (p50 ${sample.p50.toFixed(2)} ms, p99 ${sample.p99?.toFixed(2)} ms${sample.errors ? `, ${sample.errors} errors` : ''})`;
      log(`round ${round}/${rounds}: ${path.name}: ${sample.value.toFixed(path.unit === 'ms' ? 2 : 0)} ${path.unit}${latency}`);
    }
  }
  return results;
}

/** The best round and spread of a path's samples. */
export function summarize({ path, samples }: PathResult): Summary {
  const values = samples.map((sample) => sample.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const best = samples.find((sample) => sample.value === (path.unit === 'ms' ? min : max))!;
  const errors = samples.reduce((sum, sample) => sum + (sample.errors ?? 0), 0);
  const errorRounds = samples.filter((sample) => (sample.errors ?? 0) > 0).length;
  return { best, min, max, spread: max === 0 ? 0 : (max - min) / max, peaks: samples.reduce<Peaks>((peaks, sample) => higherPeaks(peaks, sample.peaks), {}), errors, errorRounds };
}
