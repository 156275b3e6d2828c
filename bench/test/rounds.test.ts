/** Interleaved rounds and their summary: the best round, the spread, and the highest peaks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runRounds, summarize, type BenchPath, type Unit } from '../rounds.js';

/** A path that returns `values` in turn and records each run in `calls`. */
function scripted(name: string, unit: Unit, values: number[], calls: string[], peak = 0): BenchPath {
  let i = 0;
  return {
    name,
    unit,
    watched: [],
    measure: async () => {
      calls.push(name);
      return { value: values[i++]!, peaks: { 'tor-client': peak * i } };
    },
  };
}

test('each round runs every path once, in turn', async () => {
  const calls: string[] = [];
  const results = await runRounds([scripted('a', 'MB/s', [1, 2, 3], calls), scripted('b', 'ms', [3, 2, 1], calls)], 3);
  assert.deepEqual(calls, ['a', 'b', 'a', 'b', 'a', 'b']);
  assert.deepEqual(
    results.map((result) => result.samples.map((sample) => sample.value)),
    [
      [1, 2, 3],
      [3, 2, 1],
    ],
  );
});

test('the best round is the highest throughput and the lowest latency; the spread is (max − min) / max', async () => {
  const calls: string[] = [];
  const [throughput, latency] = await runRounds([scripted('a', 'MB/s', [800, 1000, 900], calls, 10), scripted('b', 'ms', [4, 2, 3], calls)], 3);
  const a = summarize(throughput!);
  assert.equal(a.best.value, 1000);
  assert.equal(a.spread, 0.2);
  assert.deepEqual(a.peaks, { 'tor-client': 30 });
  const b = summarize(latency!);
  assert.equal(b.best.value, 2);
  assert.equal(b.spread, 0.5);
});

test('errors in any round are counted, not only in the best one', async () => {
  const errors = [0, 3, 1];
  let i = 0;
  const path: BenchPath = { name: 'load', unit: 'req/s', watched: [], measure: async () => ({ value: [900, 1000, 800][i]!, errors: errors[i++]! }) };
  const [result] = await runRounds([path], 3);
  const summary = summarize(result!);
  assert.equal(summary.best.value, 1000);
  assert.equal(summary.errors, 4);
  assert.equal(summary.errorRounds, 2);
});
