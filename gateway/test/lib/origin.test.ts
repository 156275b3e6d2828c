import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAllowedOrigin } from '../../src/lib/origin.js';

test('same-origin pages, non-browser clients and local dev servers are allowed', () => {
  assert.equal(isAllowedOrigin(undefined, 'files.lan:8080'), true);
  assert.equal(isAllowedOrigin('http://files.lan:8080', 'files.lan:8080'), true);
  assert.equal(isAllowedOrigin('http://localhost:5173', '127.0.0.1:8080'), true);
  assert.equal(isAllowedOrigin('http://[::1]:5173', 'localhost:8080'), true);
});

test('other sites, sandboxed pages and garbage are refused', () => {
  assert.equal(isAllowedOrigin('https://evil.example', 'files.lan:8080'), false);
  assert.equal(isAllowedOrigin('http://files.lan:9999', 'files.lan:8080'), false);
  assert.equal(isAllowedOrigin('http://localhost:5173', 'files.lan:8080'), false);
  assert.equal(isAllowedOrigin('null', 'files.lan:8080'), false);
  assert.equal(isAllowedOrigin('http://files.lan:8080', undefined), false);
});
