import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatBytes,
  formatDuration,
  formatExactTime,
  formatPercent,
  formatRate,
  formatRelativeTime,
} from '../../src/lib/format.js';

describe('formatBytes', () => {
  it('prints bytes whole and larger sizes in decimal units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1000), '1 kB');
    assert.equal(formatBytes(1536), '1.5 kB');
    assert.equal(formatBytes(23_400_000), '23 MB');
    assert.equal(formatBytes(1_250_000_000), '1.3 GB');
  });

  it('carries 999.95 kB up to 1 MB instead of printing 1000 kB', () => {
    assert.equal(formatBytes(999_950), '1 MB');
  });

  it('prints a dash for sizes that are not sizes', () => {
    assert.equal(formatBytes(-1), '—');
    assert.equal(formatBytes(Number.NaN), '—');
  });
});

describe('formatRate and formatDuration', () => {
  it('formats a rate per second, a dash when unknown', () => {
    assert.equal(formatRate(2_500_000), '2.5 MB/s');
    assert.equal(formatRate(null), '—');
  });

  it('formats remaining time in seconds, minutes and hours', () => {
    assert.equal(formatDuration(0.2), '1 s');
    assert.equal(formatDuration(45), '45 s');
    assert.equal(formatDuration(120), '2 min');
    assert.equal(formatDuration(125), '2 min 5 s');
    assert.equal(formatDuration(3600 + 180), '1 h 3 min');
    assert.equal(formatDuration(null), '—');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '—');
  });
});

describe('formatRelativeTime', () => {
  const now = Date.parse('2026-11-24T12:00:00.000Z');

  it('says "just now" for the last few seconds and for clocks slightly ahead', () => {
    assert.equal(formatRelativeTime('2026-11-24T11:59:30.000Z', now), 'just now');
    assert.equal(formatRelativeTime('2026-11-24T12:00:05.000Z', now), 'just now');
  });

  it('counts minutes, hours, days, months and years', () => {
    assert.equal(formatRelativeTime('2026-11-24T11:55:00.000Z', now), '5 minutes ago');
    assert.equal(formatRelativeTime('2026-11-24T09:00:00.000Z', now), '3 hours ago');
    assert.equal(formatRelativeTime('2026-11-23T10:00:00.000Z', now), 'yesterday');
    assert.equal(formatRelativeTime('2026-08-20T12:00:00.000Z', now), '3 months ago');
    assert.equal(formatRelativeTime('2024-11-01T12:00:00.000Z', now), '2 years ago');
  });

  it('prints a dash for an unreadable time', () => {
    assert.equal(formatRelativeTime('not a date', now), '—');
    assert.equal(formatExactTime('not a date'), '—');
  });
});

describe('formatPercent', () => {
  it('never rounds up to 100% before the end', () => {
    assert.equal(formatPercent(999, 1000), '99%');
    assert.equal(formatPercent(1000, 1000), '100%');
    assert.equal(formatPercent(0, 0), '0%', 'an empty file is not done before it is stored');
  });
});
