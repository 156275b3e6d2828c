import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatShareArgument, formatShareLine, formatShareRow, formatSignedInLine, parseShareArgument, parseShareLine, parseShareRow, parseSignedInLine, tooManyAttemptsReply } from '../../src/protocol/auth.js';
import { parseDuration } from '../../src/protocol/duration.js';

describe('access-control lines', () => {
  it('signed in as: labels with spaces (a share of "my file.txt") read back', () => {
    assert.equal(formatSignedInLine('my file.txt', 'read'), 'signed in as my file.txt (read)');
    assert.deepEqual(parseSignedInLine('signed in as my file.txt (read)'), { label: 'my file.txt', access: 'read' });
    assert.equal(parseSignedInLine('signed in as x (root)'), undefined);
  });

  it('share lines and rows round-trip, never and unlimited included', () => {
    const line = formatShareLine('tft_a_b', null, null);
    assert.equal(line, 'share tft_a_b never unlimited');
    assert.deepEqual(parseShareLine(line), { token: 'tft_a_b', expires: null, maxDownloads: null });
    const row = { id: '0a1b2c3d', name: 'a b.txt', expires: '2026-12-03T09:30:00.000Z', downloads: 1, maxDownloads: 3 };
    assert.equal(formatShareRow(row), '0a1b2c3d\ta b.txt\t2026-12-03T09:30:00.000Z\t1/3');
    assert.deepEqual(parseShareRow(formatShareRow(row)), row);
    assert.equal(parseShareRow('0a1b2c3d\ta b.txt'), undefined);
  });

  it('share arguments: options after the name in any order; malformed ones are refused', () => {
    assert.deepEqual(parseShareArgument('my file.txt'), { name: 'my file.txt' });
    assert.deepEqual(parseShareArgument('my file.txt --max-downloads 3 --expires 7d'), { name: 'my file.txt', expires: '7d', maxDownloads: 3 });
    assert.deepEqual(parseShareArgument(formatShareArgument({ name: 'a.txt', expires: '12h', maxDownloads: 1 })), { name: 'a.txt', expires: '12h', maxDownloads: 1 });
    for (const bad of ['a.txt --expires 7', 'a.txt --max-downloads 0', 'a.txt --expires 7d --expires 8d', '--expires 7d']) assert.equal(parseShareArgument(bad), undefined, bad);
  });

  it('durations are minutes, hours or days', () => {
    assert.equal(parseDuration('90m'), 90 * 60_000);
    assert.equal(parseDuration('12h'), 12 * 3_600_000);
    assert.equal(parseDuration('30d'), 30 * 86_400_000);
    for (const bad of ['0d', '7', '7 d', '1w', '-1d', '']) assert.equal(parseDuration(bad), undefined, bad);
  });

  it('too many attempts names the wait', () => {
    assert.equal(tooManyAttemptsReply(42), 'Too many attempts: retry in 42 s');
  });
});
