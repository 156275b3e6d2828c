import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAllowedOrigin } from '../../src/lib/origin.js';

const none = { allowedOrigins: new Set<string>() };
const http = (host: string | undefined) => ({ protocol: 'http' as const, host });

test('non-browser clients and pages of exactly this gateway are allowed', () => {
  assert.equal(isAllowedOrigin(undefined, http('files.lan:8080'), none), true);
  assert.equal(isAllowedOrigin('http://files.lan:8080', http('files.lan:8080'), none), true);
  assert.equal(isAllowedOrigin('http://FILES.lan:8080', http('files.lan:8080'), none), true);
  assert.equal(isAllowedOrigin('http://files.lan', http('files.lan:80'), none), true, 'the default port may be left out');
  assert.equal(isAllowedOrigin('http://localhost:8080', http('localhost:8080'), none), true);
  // Behind a TLS-terminating proxy that passes the Host on.
  assert.equal(isAllowedOrigin('https://files.example.org', http('files.example.org'), none), true);
});

test('any other origin is refused: other sites, other ports of the same host or of localhost, sandboxed pages, garbage', () => {
  assert.equal(isAllowedOrigin('https://evil.example', http('files.lan:8080'), none), false);
  assert.equal(isAllowedOrigin('http://files.lan:9999', http('files.lan:8080'), none), false);
  assert.equal(isAllowedOrigin('http://localhost:3000', http('localhost:8080'), none), false, 'another local port is another site');
  assert.equal(isAllowedOrigin('http://localhost:5173', http('127.0.0.1:8080'), none), false);
  assert.equal(isAllowedOrigin('http://[::1]:5173', http('localhost:8080'), none), false);
  assert.equal(isAllowedOrigin('https://files.lan:8080', { protocol: 'https', host: 'files.lan:9090' }, none), false);
  assert.equal(isAllowedOrigin('http://files.lan:8080', { protocol: 'https', host: 'files.lan:8080' }, none), false, 'an http page may not act on an https gateway');
  assert.equal(isAllowedOrigin('null', http('files.lan:8080'), none), false);
  assert.equal(isAllowedOrigin('not a url', http('files.lan:8080'), none), false);
  assert.equal(isAllowedOrigin('http://files.lan:8080', http(undefined), none), false);
});

test('--allowed-origins adds exactly the origins named', () => {
  const dev = { allowedOrigins: new Set(['http://localhost:5173']) };
  assert.equal(isAllowedOrigin('http://localhost:5173', http('127.0.0.1:8080'), dev), true);
  assert.equal(isAllowedOrigin('http://localhost:5174', http('127.0.0.1:8080'), dev), false);
  assert.equal(isAllowedOrigin('https://localhost:5173', http('127.0.0.1:8080'), dev), false);
});
