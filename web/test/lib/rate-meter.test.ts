import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateMeter } from '../../src/lib/rate-meter.js';

describe('RateMeter', () => {
  it('knows no rate until samples span 200 ms', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(100, 1000);
    assert.equal(meter.rate(), null);
    assert.equal(meter.eta(5000), null);
  });

  it('measures bytes per second and the time left', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(1000, 1_000_000);
    assert.equal(meter.rate(), 1_000_000);
    assert.equal(meter.eta(3_000_000), 3);
    assert.equal(meter.eta(0), 0);
  });

  it('follows the recent speed, forgetting samples older than the window', () => {
    const meter = new RateMeter(2000);
    meter.add(0, 0);
    meter.add(1000, 10_000_000); // a fast start...
    meter.add(4000, 10_300_000);
    meter.add(5000, 10_400_000); // ...then 100 kB/s
    assert.equal(meter.rate(), 100_000);
  });
});
