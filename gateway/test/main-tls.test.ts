import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import { GATEWAY_SOURCE, eventually, makeCertificates, servedCertificate, runNode, scratchDir, spawnGateway, spawnTorServer } from 'test-support';

/** GET over HTTPS trusting `ca`, optionally naming another host in the Host header: status, headers and body. */
function httpsGet(url: string, ca: string, hostHeader?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, servername: 'localhost', ...(hostHeader && { headers: { host: hostHeader } }) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

test('the gateway serves HTTPS with HSTS and reaches a TLS tor-server that it checks against --tor-ca', async (t) => {
  const certs = makeCertificates(await scratchDir(t, 'gw-tls-certs-'));
  const dir = await scratchDir(t, 'gw-tls-files-');
  const payload = randomBytes(2 * 1024 * 1024 + 5);
  await writeFile(path.join(dir, 'photo.bin'), payload);
  const tor = await spawnTorServer(t, { dir, args: ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile] });
  const gateway = await spawnGateway(t, {
    torPort: tor.port,
    fromSource: true,
    args: ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--tor-ca', certs.caFile, '--allowed-hosts', 'files.test'],
  });
  assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const file = await httpsGet(`${gateway.url}/api/files/photo.bin`, certs.ca, 'files.test');
  assert.equal(file.status, 200);
  assert.ok(file.body.equals(payload), 'the bytes came through both TLS hops unchanged');
  assert.equal(file.headers['strict-transport-security'], 'max-age=31536000');
  const missing = await httpsGet(`${gateway.url}/api/files/nothing.bin`, certs.ca, 'files.test');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['strict-transport-security'], 'max-age=31536000', 'errors carry HSTS too');
  // This machine's own names get none: HSTS for localhost would force HTTPS on every local app.
  const local = await httpsGet(`${gateway.url}/api/files/photo.bin`, certs.ca);
  assert.equal(local.status, 200);
  assert.equal(local.headers['strict-transport-security'], undefined);
});

test('SIGHUP makes an HTTPS gateway serve a renewed certificate', async (t) => {
  const certs = makeCertificates(await scratchDir(t, 'gw-tls-certs-'));
  const folder = await scratchDir(t, 'gw-tls-live-');
  const certFile = path.join(folder, 'live.crt');
  const keyFile = path.join(folder, 'live.key');
  await copyFile(certs.certFile, certFile);
  await copyFile(certs.keyFile, keyFile);
  const tor = await spawnTorServer(t, { dir: await scratchDir(t, 'gw-tls-files-') });
  const gateway = await spawnGateway(t, { torPort: tor.port, fromSource: true, args: ['--tls-cert', certFile, '--tls-key', keyFile] });
  const before = await servedCertificate(gateway.port);
  await copyFile(certs.selfSignedFile, certFile);
  await copyFile(certs.selfSignedKeyFile, keyFile);
  gateway.child.kill('SIGHUP');
  await eventually(async () => (await servedCertificate(gateway.port)) !== before, 'the renewed certificate');
  assert.equal(gateway.child.exitCode, null, 'the gateway still runs');
});

test('a plain gateway sends no HSTS, and a gateway that does not trust the tor-server reports it down', async (t) => {
  const certs = makeCertificates(await scratchDir(t, 'gw-tls-certs-'));
  const tor = await spawnTorServer(t, { dir: await scratchDir(t, 'gw-tls-files-'), args: ['--tls-cert', certs.selfSignedFile, '--tls-key', certs.selfSignedKeyFile] });
  // --tor-tls trusts the system's CAs only, which did not sign this certificate.
  const gateway = await spawnGateway(t, { torPort: tor.port, fromSource: true, args: ['--tor-tls'] });
  const health = await fetch(`${gateway.url}/api/health`);
  assert.equal(health.status, 503);
  assert.equal(health.headers.get('strict-transport-security'), null);
});

test('the gateway refuses half a certificate pair and a CA file it cannot read', async (t) => {
  const half = await runNode(t, GATEWAY_SOURCE, { nodeFlags: ['--import', 'tsx'], args: ['--tls-cert', 'x.pem'], ms: 15_000 });
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--tls-cert and --tls-key go together/);
  const unreadable = await runNode(t, GATEWAY_SOURCE, { nodeFlags: ['--import', 'tsx'], args: ['--port', '0', '--tor-ca', '/nonexistent/ca.pem'], ms: 15_000 });
  assert.equal(unreadable.code, 1);
  assert.match(unreadable.stderr, /^tor-gateway: --tor-ca \/nonexistent\/ca\.pem could not be read: there is no such file\n$/);
});
