import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILED_SIGN_IN_WINDOW_MS, MAX_FAILED_SIGN_INS, SignInLimit } from '../../src/server/auth/sign-in-limit.js';
import { hashSecret, newSecret, parseToken, secretMatches } from '../../src/server/auth/token-format.js';

describe('failed sign-in limit', () => {
  it('allows the first failures, then says how long to wait until the oldest leaves the window', () => {
    const limit = new SignInLimit();
    const start = 1_000_000;
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      assert.equal(limit.retryInSeconds('10.0.0.1', start + i), 0);
      limit.failed('10.0.0.1', start + i);
    }
    assert.equal(limit.retryInSeconds('10.0.0.1', start + 10_000), 50);
    assert.equal(limit.retryInSeconds('10.0.0.2', start + 10_000), 0);
    assert.equal(limit.retryInSeconds('10.0.0.1', start + FAILED_SIGN_IN_WINDOW_MS), 0);
  });
});

describe('token format', () => {
  it('tokens are tft_<8 hex>_<43 base64url>, and only the secret\'s hash is kept', () => {
    const { token, hash } = newSecret('0a1b2c3d');
    const parts = parseToken(token)!;
    assert.equal(parts.id, '0a1b2c3d');
    assert.equal(hash, hashSecret(parts.secret));
    assert.ok(!hash.includes(parts.secret));
    assert.ok(secretMatches(parts.secret, hash));
    assert.ok(!secretMatches(`${parts.secret.slice(0, -1)}x`, hash));
    for (const bad of ['tft_0a1b2c3d_short', 'tok_0a1b2c3d_' + 'A'.repeat(43), 'tft_0A1B2C3D_' + 'A'.repeat(43)]) assert.equal(parseToken(bad), undefined, bad);
  });
});
