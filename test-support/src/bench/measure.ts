import { log } from './report.js';

/**
 * Runs each measurement `rounds` times, alternating them so all see the same machine (disk
 * write-back, other load), and keeps the best (least disturbed) result of each.
 */
export async function interleaved<T extends (() => Promise<number>)[]>(rounds: number, measures: [...T]): Promise<{ [K in keyof T]: number }> {
  const top = measures.map(() => 0);
  for (let i = 0; i < rounds; i++) {
    for (const [j, measure] of measures.entries()) top[j] = Math.max(top[j]!, await measure());
  }
  return top as { [K in keyof T]: number };
}

/** Runs `count` tasks at once; logs the first few failures and returns how many failed and how long it took. */
export async function crowd(count: number, task: (index: number) => Promise<void>): Promise<{ errors: number; ms: number }> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => task(i)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const failure of failures.slice(0, 3)) log(`  error: ${(failure.reason as Error).message}`);
  return { errors: failures.length, ms: performance.now() - started };
}
