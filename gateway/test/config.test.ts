import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GATEWAY_DEFAULTS, GatewayConfigError, parseGatewayConfig } from '../src/config.js';

const WEB_DIST = path.resolve(fileURLToPath(new URL('../../web/dist', import.meta.url)));

test('defaults: all interfaces on 8080, tor-server on 127.0.0.1:7777, the web workspace build', () => {
  assert.deepEqual(parseGatewayConfig([], {}), {
    host: '0.0.0.0',
    port: 8080,
    torHost: '127.0.0.1',
    torPort: 7777,
    maxUploadSize: GATEWAY_DEFAULTS.maxUploadSize,
    webDir: WEB_DIST,
    logLevel: 'warn',
  });
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '9000', TOR_HOST: 'tor', TOR_PORT: '7000', GATEWAY_MAX_UPLOAD_SIZE: '2G', GATEWAY_WEB_DIR: '/srv/web', GATEWAY_LOG_LEVEL: 'info' };
  assert.deepEqual(parseGatewayConfig([], env), {
    host: '127.0.0.1', port: 9000, torHost: 'tor', torPort: 7000, maxUploadSize: 2 * 1024 ** 3, webDir: '/srv/web', logLevel: 'info',
  });
  const flags = parseGatewayConfig(['--port', '0', '--tor-port', '7001', '--max-upload-size', '512K', '--log-level', 'debug'], env);
  assert.ok(flags !== 'help');
  assert.equal(flags.port, 0);
  assert.equal(flags.torPort, 7001);
  assert.equal(flags.maxUploadSize, 512 * 1024);
  assert.equal(flags.logLevel, 'debug');
  assert.equal(parseGatewayConfig(['--max-upload-size', '100M'], {}) !== 'help' && (parseGatewayConfig(['--max-upload-size', '100M'], {}) as { maxUploadSize: number }).maxUploadSize, 100 * 1024 ** 2);
});

test('nonsense values and unknown flags are refused with a message naming them', () => {
  assert.throws(() => parseGatewayConfig(['--port', '70000'], {}), /--port.*70000/);
  assert.throws(() => parseGatewayConfig([], { TOR_PORT: 'abc' }), /--tor-port \(TOR_PORT\)/);
  assert.throws(() => parseGatewayConfig(['--max-upload-size', 'lots'], {}), /--max-upload-size/);
  assert.throws(() => parseGatewayConfig(['--log-level', 'loud'], {}), /--log-level/);
  assert.throws(() => parseGatewayConfig(['--colour'], {}), GatewayConfigError);
  assert.equal(parseGatewayConfig(['--help'], {}), 'help');
});
