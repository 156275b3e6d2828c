import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GATEWAY_DEFAULTS, GatewayConfigError, gatewayUsage, parseGatewayConfig, type GatewayConfig } from '../src/config.js';

const WEB_DIST = path.resolve(fileURLToPath(new URL('../../web/dist', import.meta.url)));

test('defaults: all interfaces on 8080, tor-server on 127.0.0.1:7777, the web workspace build, no metrics, no TLS', () => {
  assert.deepEqual(parseGatewayConfig([], {}), {
    host: '0.0.0.0',
    port: 8080,
    torHost: '127.0.0.1',
    torPort: 7777,
    torTls: false,
    torCa: undefined,
    tlsCert: undefined,
    tlsKey: undefined,
    maxUploadSize: GATEWAY_DEFAULTS.maxUploadSize,
    webDir: WEB_DIST,
    logLevel: 'warn',
    upstreamPool: 16,
    maxUpstream: 48,
    maxTransfersPerAddress: 16,
    maxWsPerAddress: 32,
    maxWsSessions: 10_000,
    allowedHosts: [],
    allowedOrigins: [],
    metricsPort: undefined,
    metricsHost: '127.0.0.1',
  });
});

test('flags win over environment variables, which win over defaults', () => {
  const env = { GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '9000', TOR_HOST: 'tor', TOR_PORT: '7000', GATEWAY_MAX_UPLOAD_SIZE: '2G', GATEWAY_WEB_DIR: '/srv/web', GATEWAY_LOG_LEVEL: 'info' };
  assert.deepEqual(parseGatewayConfig([], env), {
    ...(parseGatewayConfig([], {}) as GatewayConfig),
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

test('pool, connection and session limits: flags, environment, and values that make no sense', () => {
  const env = { GATEWAY_UPSTREAM_POOL: '8', GATEWAY_MAX_UPSTREAM: '40', GATEWAY_MAX_WS_PER_ADDRESS: '100', GATEWAY_MAX_WS_SESSIONS: '500' };
  const fromEnv = parseGatewayConfig([], env);
  assert.ok(fromEnv !== 'help');
  assert.deepEqual([fromEnv.upstreamPool, fromEnv.maxUpstream, fromEnv.maxWsPerAddress, fromEnv.maxWsSessions], [8, 40, 100, 500]);
  const fromFlags = parseGatewayConfig(['--upstream-pool', '2', '--max-upstream', '4', '--max-ws-per-address', '1', '--max-ws-sessions', '3'], env);
  assert.ok(fromFlags !== 'help');
  assert.deepEqual([fromFlags.upstreamPool, fromFlags.maxUpstream, fromFlags.maxWsPerAddress, fromFlags.maxWsSessions], [2, 4, 1, 3]);
  assert.throws(() => parseGatewayConfig(['--upstream-pool', '0'], {}), /--upstream-pool \(GATEWAY_UPSTREAM_POOL\): "0"/);
  assert.throws(() => parseGatewayConfig([], { GATEWAY_MAX_WS_SESSIONS: 'many' }), /--max-ws-sessions/);
  assert.throws(() => parseGatewayConfig(['--max-ws-per-address', '-1'], {}), /--max-ws-per-address/);
  assert.throws(() => parseGatewayConfig(['--upstream-pool', '20', '--max-upstream', '10'], {}), /must not be larger than --max-upstream/);
  const transfers = (argv: string[], environment: NodeJS.ProcessEnv) => (parseGatewayConfig(argv, environment) as GatewayConfig).maxTransfersPerAddress;
  assert.equal(transfers([], { GATEWAY_MAX_TRANSFERS_PER_ADDRESS: '4' }), 4);
  assert.equal(transfers(['--max-transfers-per-address', '64'], { GATEWAY_MAX_TRANSFERS_PER_ADDRESS: '4' }), 64);
  assert.throws(() => parseGatewayConfig(['--max-transfers-per-address', '0'], {}), /--max-transfers-per-address \(GATEWAY_MAX_TRANSFERS_PER_ADDRESS\): "0"/);
});

test('allowed hosts and origins: comma-separated, normalized, nonsense refused', () => {
  const config = parseGatewayConfig(['--allowed-hosts', 'Files.Example.org, 192.0.2.7:8080,::1,[fe80::1]'], { GATEWAY_ALLOWED_ORIGINS: 'http://localhost:5173,https://files.example.org' });
  assert.ok(config !== 'help');
  assert.deepEqual(config.allowedHosts, ['files.example.org', '192.0.2.7', '[::1]', '[fe80::1]']);
  assert.deepEqual(config.allowedOrigins, ['http://localhost:5173', 'https://files.example.org']);
  assert.throws(() => parseGatewayConfig(['--allowed-hosts', 'files.example.org/path'], {}), /--allowed-hosts \(GATEWAY_ALLOWED_HOSTS\): "files.example.org\/path"/);
  for (const origin of ['localhost:5173', 'http://localhost:5173/app', 'ftp://files.example.org', 'null', 'http://localhost:5173/']) {
    assert.throws(() => parseGatewayConfig(['--allowed-origins', origin], {}), /--allowed-origins/, origin);
  }
});

test('--help lists every flag with its environment variable', () => {
  const usage = gatewayUsage();
  for (const flag of ['upstream-pool', 'max-upstream', 'max-transfers-per-address', 'max-ws-per-address', 'max-ws-sessions', 'allowed-hosts', 'allowed-origins']) assert.match(usage, new RegExp(`--${flag} .*\\[env GATEWAY_`), flag);
});
