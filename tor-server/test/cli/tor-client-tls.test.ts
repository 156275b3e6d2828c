import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Scope, makeCertificates, scratchDir, type Certificates } from 'test-support';
import { startServer } from '../helpers.js';
import { runClient } from './helpers.js';

describe('tor-client over TLS', () => {
  const scope = new Scope();
  const payload = randomBytes(700_000);
  let certs: Certificates;
  let port: number;
  let home: string;

  before(async () => {
    certs = makeCertificates(await scratchDir(scope, 'tor-cli-tls-certs-'));
    let dir: string;
    ({ port, dir } = await startServer(scope, { tlsCert: certs.certFile, tlsKey: certs.keyFile }));
    await fs.writeFile(path.join(dir, 'payload.bin'), payload);
    home = await scratchDir(scope, 'tor-cli-tls-home-');
  });
  after(() => scope.close());

  const client = (args: string[], env: NodeJS.ProcessEnv = {}) => runClient(['--host', '127.0.0.1', '--port', String(port), ...args], { cwd: home, env });

  test('downloads identical bytes with --ca, and with TOR_TLS and TOR_CA', async () => {
    const saved = path.join(home, 'tor-files', 'Downloads', 'payload.bin');
    const flags = await client(['--ca', certs.caFile, 'download', 'payload.bin']);
    assert.equal(flags.code, 0, flags.stderr);
    assert.ok((await fs.readFile(saved)).equals(payload));
    await fs.rm(saved);
    const env = await client(['download', 'payload.bin'], { TOR_TLS: '1', TOR_CA: certs.caFile });
    assert.equal(env.code, 0, env.stderr);
    assert.ok((await fs.readFile(saved)).equals(payload));
  });

  test('exits 3 with what to do when the certificate is not trusted', async () => {
    const result = await client(['--tls', 'show']);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /has a certificate this client does not trust \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
    assert.match(result.stderr, /tor-client --ca FILE/);
  });

  test('--insecure connects and warns that nothing was checked', async () => {
    const result = await client(['--insecure', 'show']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /payload\.bin/);
    assert.match(result.stderr, /^tor-client: warning: --insecure does not check the server's certificate/);
  });

  test('a missing CA file or a contradiction is a usage error', async () => {
    const missing = await client(['--ca', path.join(home, 'nope.pem'), 'show']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--ca .*nope\.pem could not be read: there is no such file/);
    const both = await client(['--ca', certs.caFile, '--insecure', 'show']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--ca and --insecure contradict each other/);
  });
});
