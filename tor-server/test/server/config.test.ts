import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, parseByteSize, parseServerConfig, usage } from '../../src/server/config.js';

describe('parseServerConfig', () => {
  it('uses the defaults when nothing is given', () => {
    assert.deepEqual(parseServerConfig([], {}), DEFAULTS);
    assert.equal(DEFAULTS.port, 7777);
    assert.equal(DEFAULTS.host, '0.0.0.0');
    assert.equal(DEFAULTS.dir, './tor_files');
  });

  it('flags beat environment variables, which beat defaults', () => {
    const env = { TOR_HOST: '127.0.0.2', TOR_PORT: '9000', TOR_DIR: '/env/dir', TOR_MAX_CLIENTS: '5' };
    const fromEnv = parseServerConfig([], env);
    assert.equal(fromEnv !== 'help' && fromEnv.host, '127.0.0.2');
    assert.equal(fromEnv !== 'help' && fromEnv.port, 9000);
    assert.equal(fromEnv !== 'help' && fromEnv.dir, '/env/dir');
    const config = parseServerConfig(['--port', '0', '--dir', '/flag/dir'], env);
    assert.notEqual(config, 'help');
    if (config === 'help') return;
    assert.equal(config.port, 0);
    assert.equal(config.dir, '/flag/dir');
    assert.equal(config.host, '127.0.0.2');
    assert.equal(config.maxClients, 5);
    assert.equal(config.idleTimeoutMs, DEFAULTS.idleTimeoutMs);
  });

  it('reads the access-control settings: state folder, sign-in mode, trusted proxies and their limit', () => {
    assert.deepEqual(
      parseServerConfig(['--auth', 'required', '--trusted-proxies', '10.0.0.5, 10.0.0.6', '--max-clients-per-proxy', '900'], { TOR_STATE_DIR: '/var/lib/tor-state' }),
      { ...DEFAULTS, auth: 'required', trustedProxies: ['10.0.0.5', '10.0.0.6'], maxClientsPerProxy: 900, stateDir: '/var/lib/tor-state' },
    );
    assert.equal(DEFAULTS.stateDir, './tor-state');
    assert.equal(DEFAULTS.auth, 'auto');
    assert.deepEqual(DEFAULTS.trustedProxies, []);
    assert.deepEqual((parseServerConfig(['--trusted-proxies', '::ffff:10.0.0.2, 0:0:0:0:0:0:0:1'], {}) as { trustedProxies: string[] }).trustedProxies, ['10.0.0.2', '::1']);
    // CIDR ranges and host names (a compose service has no fixed address) are taken as written.
    assert.deepEqual((parseServerConfig(['--trusted-proxies', '172.16.0.0/12,gateway'], {}) as { trustedProxies: string[] }).trustedProxies, ['172.16.0.0/12', 'gateway']);
    assert.throws(() => parseServerConfig(['--trusted-proxies', 'gate_way'], {}), /--trusted-proxies .*"gate_way" is not an IP address, a CIDR range \(172\.16\.0\.0\/12\) or a host name/);
    assert.throws(() => parseServerConfig(['--trusted-proxies', '10.0.0.0/33'], {}), /--trusted-proxies .*"10\.0\.0\.0\/33" has a prefix length outside 0-32/);
    assert.throws(() => parseServerConfig(['--auth', 'maybe'], {}), (error: unknown) => error instanceof ConfigError && /--auth .*"maybe" is not one of auto, required, open/.test(error.message));
  });

  it('partial uploads: --partial-ttl in seconds (24 h by default) and --max-partials-per-owner (16)', () => {
    assert.equal(DEFAULTS.partialTtlMs, 24 * 3600_000);
    assert.equal(DEFAULTS.maxPartialsPerOwner, 16);
    const config = parseServerConfig(['--partial-ttl', '90'], { TOR_PARTIAL_TTL: '5', TOR_MAX_PARTIALS_PER_OWNER: '3' });
    assert.ok(config !== 'help');
    assert.equal(config.partialTtlMs, 90_000);
    assert.equal(config.maxPartialsPerOwner, 3);
    assert.match(usage(), /--partial-ttl .*TOR_PARTIAL_TTL/);
  });

  it('an empty environment variable counts as unset', () => {
    const config = parseServerConfig([], { TOR_PORT: '', TOR_HOST: '' });
    assert.deepEqual(config, DEFAULTS);
  });

  it('reads every limit, with byte sizes and seconds', () => {
    const config = parseServerConfig(
      ['--max-file-size', '100M', '--max-clients', '3', '--idle-timeout', '0.5', '--stall-timeout', '2', '--shutdown-grace', '0', '--log-level', 'warn'],
      {},
    );
    assert.deepEqual(config, { ...DEFAULTS, maxFileSize: 100 * 1024 ** 2, maxClients: 3, idleTimeoutMs: 500, stallTimeoutMs: 2000, shutdownGraceMs: 0, logLevel: 'warn' });
    const fromEnv = parseServerConfig([], { TOR_MAX_FILE_SIZE: '1K', TOR_STALL_TIMEOUT: '0.3', TOR_LOG_LEVEL: 'silent' });
    assert.deepEqual(fromEnv, { ...DEFAULTS, maxFileSize: 1024, stallTimeoutMs: 300, logLevel: 'silent' });
  });

  it('reads the limits on slow and crowding clients, with their defaults', () => {
    assert.equal(DEFAULTS.maxClientsPerAddress, 64);
    assert.equal(DEFAULTS.firstCommandTimeoutMs, 10_000);
    assert.equal(DEFAULTS.minTransferBytes, 64 * 1024);
    const config = parseServerConfig(['--max-clients-per-address', '4', '--first-command-timeout', '0.5', '--min-transfer-bytes', '1M'], {});
    assert.deepEqual(config, { ...DEFAULTS, maxClientsPerAddress: 4, firstCommandTimeoutMs: 500, minTransferBytes: 1024 ** 2 });
    const fromEnv = parseServerConfig([], { TOR_MAX_CLIENTS_PER_ADDRESS: '2', TOR_FIRST_COMMAND_TIMEOUT: '3', TOR_MIN_TRANSFER_BYTES: '0' });
    assert.deepEqual(fromEnv, { ...DEFAULTS, maxClientsPerAddress: 2, firstCommandTimeoutMs: 3000, minTransferBytes: 0 });
  });

  it('--open-access (TOR_OPEN_ACCESS) is read, write or admin, default write', () => {
    assert.equal(DEFAULTS.openAccess, 'write');
    assert.deepEqual(parseServerConfig(['--open-access', 'admin'], {}), { ...DEFAULTS, openAccess: 'admin' });
    assert.deepEqual(parseServerConfig([], { TOR_OPEN_ACCESS: 'read' }), { ...DEFAULTS, openAccess: 'read' });
    assert.deepEqual(parseServerConfig(['--open-access', 'write'], { TOR_OPEN_ACCESS: 'admin' }), { ...DEFAULTS, openAccess: 'write' });
    assert.throws(
      () => parseServerConfig(['--open-access', 'root'], {}),
      (error: unknown) => error instanceof ConfigError && error.message === '--open-access (TOR_OPEN_ACCESS): "root" is not one of read, write, admin',
    );
    assert.ok(usage().includes('--open-access') && usage().includes('TOR_OPEN_ACCESS'));
  });

  it('--help and -h ask for the usage text, which names every flag and variable', () => {
    assert.equal(parseServerConfig(['--help'], {}), 'help');
    assert.equal(parseServerConfig(['-h'], {}), 'help');
    for (const word of ['--host', '--port', '--dir', '--max-file-size', '--max-clients', '--max-clients-per-address', '--first-command-timeout', '--idle-timeout', '--stall-timeout', '--min-transfer-bytes', '--shutdown-grace', 'TOR_HOST', 'TOR_PORT', 'TOR_DIR', 'TOR_MAX_CLIENTS_PER_ADDRESS', 'TOR_FIRST_COMMAND_TIMEOUT', 'TOR_MIN_TRANSFER_BYTES'])
      assert.ok(usage().includes(word), word);
  });

  it('bad values throw ConfigError naming the flag', () => {
    const bad: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--port', 'abc'], {}, /--port/],
      [['--port', '70000'], {}, /--port/],
      [['--port=-1'], {}, /--port/],
      [[], { TOR_PORT: '80a' }, /TOR_PORT/],
      [['--max-file-size', 'lots'], {}, /--max-file-size/],
      [['--max-clients', '0'], {}, /--max-clients/],
      [['--max-clients', '1.5'], {}, /--max-clients/],
      [['--idle-timeout', '0'], {}, /--idle-timeout/],
      [['--stall-timeout=-3'], {}, /--stall-timeout/],
      [['--shutdown-grace', 'soon'], {}, /--shutdown-grace/],
      [['--log-level', 'loud'], {}, /--log-level/],
      [['--max-clients-per-address', '0'], {}, /--max-clients-per-address/],
      [[], { TOR_MAX_CLIENTS_PER_ADDRESS: 'many' }, /TOR_MAX_CLIENTS_PER_ADDRESS/],
      [['--first-command-timeout', '0'], {}, /--first-command-timeout/],
      [['--min-transfer-bytes', 'fast'], {}, /--min-transfer-bytes/],
      [['--min-transfer-bytes=-1'], {}, /--min-transfer-bytes/],
    ];
    for (const [argv, env, message] of bad) assert.throws(() => parseServerConfig(argv, env), (error: Error) => error instanceof ConfigError && message.test(error.message), argv.join(' '));
  });

  it('unknown flags and stray words are refused', () => {
    assert.throws(() => parseServerConfig(['--prot', '1'], {}));
    assert.throws(() => parseServerConfig(['serve'], {}));
  });
});

describe('parseByteSize', () => {
  it('reads plain bytes and binary units', () => {
    assert.equal(parseByteSize('0'), 0);
    assert.equal(parseByteSize('1048576'), 1048576);
    assert.equal(parseByteSize('512K'), 512 * 1024);
    assert.equal(parseByteSize('100M'), 100 * 1024 ** 2);
    assert.equal(parseByteSize('16G'), 16 * 1024 ** 3);
    assert.equal(parseByteSize('1T'), 1024 ** 4);
    assert.equal(parseByteSize('1.5k'), 1536);
    assert.equal(parseByteSize('2MB'), 2 * 1024 ** 2);
    assert.equal(parseByteSize('2MiB'), 2 * 1024 ** 2);
    assert.equal(parseByteSize(' 10 M '), 10 * 1024 ** 2);
  });

  it('refuses what is not a size', () => {
    for (const text of ['', 'M', '-1', '1X', '1e9', '0x10', '1.2.3', '99999999999T']) assert.equal(parseByteSize(text), undefined, text);
  });
});
