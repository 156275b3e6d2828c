import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/lib/backoff.js';

describe('backoffDelay', () => {
  const options = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0.2 };

  it('doubles from the initial delay and stops at the cap', () => {
    const noJitter = () => 0;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffDelay(attempt, options, noJitter)),
      [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
    );
  });

  it('takes at most the jitter fraction off', () => {
    assert.equal(backoffDelay(0, options, () => 1), 400);
    assert.equal(backoffDelay(0, options, () => 0.5), 450);
  });
});
