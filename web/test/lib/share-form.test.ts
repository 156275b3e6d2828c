import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EXPIRY_CHOICES,
  EXPIRY_PROBLEM,
  MAX_DOWNLOADS_PROBLEM,
  describeDownloads,
  describeExpiry,
  shareRequest,
  shareUrl,
} from '../../src/lib/share-form.js';

describe('shareRequest', () => {
  it('sends the expiry choices as the contract durations, and never as no expiry', () => {
    assert.deepEqual(
      EXPIRY_CHOICES.map((choice) => shareRequest('a.txt', choice.value, '')),
      [
        { request: { name: 'a.txt' } },
        { request: { name: 'a.txt', expires: '1h' } },
        { request: { name: 'a.txt', expires: '1d' } },
        { request: { name: 'a.txt', expires: '7d' } },
        { request: { name: 'a.txt', expires: '30d' } },
      ],
    );
  });

  it('takes a maximum of at least 1, and empty as no limit', () => {
    assert.deepEqual(shareRequest('a.txt', '', ' 3 '), { request: { name: 'a.txt', maxDownloads: 3 } });
    assert.deepEqual(shareRequest('a.txt', '7d', '1'), { request: { name: 'a.txt', expires: '7d', maxDownloads: 1 } });
    assert.deepEqual(shareRequest('a.txt', '', '   '), { request: { name: 'a.txt' } });
  });

  it('refuses what the gateway would refuse, saying what to type', () => {
    for (const bad of ['0', '-1', '1.5', '2e3', 'ten', '99999999999999999999']) {
      assert.deepEqual(shareRequest('a.txt', '', bad), { problem: MAX_DOWNLOADS_PROBLEM }, bad);
    }
    for (const bad of ['7', '0d', '1w', '1000000d', ' 1h']) {
      assert.deepEqual(shareRequest('a.txt', bad, ''), { problem: EXPIRY_PROBLEM }, bad);
    }
  });
});

describe('share link text', () => {
  it('builds the full URL from the origin and the path the gateway answered', () => {
    assert.equal(shareUrl('https://files.example', '/s/tft_0a1b2c3d_x'), 'https://files.example/s/tft_0a1b2c3d_x');
  });

  it('says how much of a link is used', () => {
    assert.equal(describeDownloads({ downloads: 2, maxDownloads: 5 }), '2 of 5 downloads');
    assert.equal(describeDownloads({ downloads: 1, maxDownloads: null }), '1 download');
    assert.equal(describeDownloads({ downloads: 0, maxDownloads: null }), '0 downloads');
  });

  it('says when a link expires', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    assert.equal(describeExpiry({ expires: null }, now), 'never expires');
    assert.equal(describeExpiry({ expires: '2026-11-26T09:00:00Z' }, now), 'expired');
    assert.match(describeExpiry({ expires: '2026-12-03T10:00:00Z' }, now), /^expires .*2026/);
  });
});
