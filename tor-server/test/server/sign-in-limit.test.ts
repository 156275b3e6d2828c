import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FAILED_SIGN_INS, SignInLimit, signInLimitKey } from '../../src/server/auth/sign-in-limit.js';

test('an IPv4 address is its own key; an IPv6 address counts by its /64', () => {
  assert.equal(signInLimitKey('203.0.113.9'), '203.0.113.9');
  assert.equal(signInLimitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(signInLimitKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(signInLimitKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(signInLimitKey('::1'), '0:0:0:0::/64');
  assert.equal(signInLimitKey('::'), '0:0:0:0::/64');
  assert.equal(signInLimitKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
  assert.equal(signInLimitKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(signInLimitKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
});

test('failures from different addresses of one IPv6 /64 add up; another /64 is counted apart', () => {
  const limit = new SignInLimit();
  const now = Date.now();
  for (let i = 1; i <= MAX_FAILED_SIGN_INS; i++) limit.failed(`2001:db8:1:2::${i.toString(16)}`, now);
  assert.ok(limit.retryInSeconds('2001:db8:1:2:ffff::99', now) > 0);
  assert.equal(limit.retryInSeconds('2001:db8:1:3::1', now), 0);
  assert.equal(limit.retryInSeconds('203.0.113.9', now), 0);
});

test('a sign-in that succeeds is taken off its /64 count', () => {
  const limit = new SignInLimit();
  const now = Date.now();
  for (let i = 1; i < MAX_FAILED_SIGN_INS; i++) limit.failed(`2001:db8::${i}`, now);
  const succeeded = limit.attempt('2001:db8::ab', now + 1);
  assert.ok(limit.retryInSeconds('2001:db8::cd', now + 1) > 0);
  succeeded();
  assert.equal(limit.retryInSeconds('2001:db8::cd', now + 1), 0);
});
