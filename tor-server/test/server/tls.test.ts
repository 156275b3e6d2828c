import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { eventually, makeCertificates, servedCertificate, runNode, scratchDir, spawnTorServer, within, WAIT_MS, type Certificates } from 'test-support';
import { TftcpClient, TftcpConnectionError } from '../../src/client/index.js';
import { ConfigError, parseServerConfig } from '../../src/server/index.js';
import { memoryLogger, patternBytes, startServer } from '../helpers.js';
import { CLIENT_BIN } from '../cli/helpers.js';

const SIZE = 3 * 1024 * 1024 + 17;

async function certificates(t: TestContext): Promise<Certificates> {
  return makeCertificates(await scratchDir(t, 'tor-tls-'));
}

/** Everything a client receives on a socket until the server closes it. */
async function readAll(socket: net.Socket): Promise<string> {
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  return text;
}

describe('TFTCP over TLS', () => {
  it('serves the same commands and identical bytes to a client that trusts its CA', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile });
    const client = await TftcpClient.connect({ host: '127.0.0.1', port, tls: { ca: certs.ca } });
    t.after(() => client.destroy());
    const data = patternBytes(SIZE);
    await client.upload('secret.bin', data.length, [data]);
    assert.deepEqual((await client.show()).map((f) => [f.name, f.size]), [['secret.bin', SIZE]]);
    const { stream } = await client.download('secret.bin');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data), 'the downloaded bytes are the uploaded ones');
    await client.exit();
  });

  it('refuses a client that does not trust the certificate, saying what to pass', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.selfSignedFile, tlsKey: certs.selfSignedKeyFile });
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.1', port, tls: {} }), (error: Error) => {
      assert.ok(error instanceof TftcpConnectionError);
      assert.match(error.message, /certificate this client does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\)\. Give the CA that signed it \(tor-client --ca FILE\)/);
      return true;
    });
    // Its own certificate as the CA, or no check at all, both connect.
    for (const settings of [{ ca: await readFile(certs.selfSignedFile, 'utf8') }, { insecure: true }]) {
      const client = await TftcpClient.connect({ host: '127.0.0.1', port, tls: settings });
      assert.deepEqual(await client.show(), []);
      await client.exit();
    }
  });

  it('names a certificate made out to other names', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile });
    // The certificate lists localhost and 127.0.0.1; 127.0.0.2 reaches the same listener by another name.
    const listener = net.createServer((socket) => {
      const upstream = net.connect(port, '127.0.0.1');
      for (const [from, to] of [[socket, upstream], [upstream, socket]] as const) {
        from.pipe(to);
        from.on('error', () => {});
        from.on('close', () => to.destroy());
      }
    });
    listener.listen(0, '127.0.0.2');
    await once(listener, 'listening');
    t.after(() => listener.close());
    const relayPort = (listener.address() as net.AddressInfo).port;
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.2', port: relayPort, tls: { ca: certs.ca } }), /is not made out to that name/);
  });

  it('tells a TLS client that reached a plain port to try without --tls', async (t) => {
    const { port } = await startServer(t);
    await assert.rejects(TftcpClient.connect({ host: '127.0.0.1', port, tls: { insecure: true }, connectTimeoutMs: 5000 }), (error: Error) => {
      assert.match(error.message, /Try without --tls/);
      return true;
    });
  });

  it('serves plain TFTCP and TLS side by side with --tls-port', async (t) => {
    const certs = await certificates(t);
    const dir = await scratchDir(t, 'tor-tls-both-');
    const tor = await spawnTorServer(t, { dir, args: ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--tls-port', '0', '--log-level', 'warn'] });
    assert.ok(tor.tlsPort !== undefined && tor.tlsPort !== tor.port, 'the listening line names a second port');
    const plain = await TftcpClient.connect({ host: '127.0.0.1', port: tor.port });
    const secure = await TftcpClient.connect({ host: '127.0.0.1', port: tor.tlsPort, tls: { ca: certs.ca } });
    await plain.upload('both.txt', 5, [Buffer.from('hello')]);
    assert.deepEqual((await secure.show()).map((f) => f.name), ['both.txt']);
    await Promise.all([plain.exit(), secure.exit()]);
  });

  it('speaks to openssl s_client, the nc of TFTCP over TLS', async (t) => {
    const certs = await certificates(t);
    const { dir, port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile });
    await copyFile(certs.caFile, path.join(dir, 'ca.crt'));
    const child = spawn('openssl', ['s_client', '-quiet', '-verify_return_error', '-CAfile', certs.caFile, '-connect', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.write('show\n');
    await eventually(() => output.includes('\nend\n'), 'the listing through s_client');
    child.stdin.write('exit\n');
    await within(once(child, 'exit'), WAIT_MS, 'openssl to exit after the server closed');
    assert.match(output, /^ok\nca\.crt\t\d+\t.+\nend\nexit\n$/);
  });

  it('drops a plain client on a TLS port and logs one line, not a stack', async (t) => {
    const certs = await certificates(t);
    const log = memoryLogger();
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile, logger: log.logger });
    const socket = net.connect(port, '127.0.0.1');
    socket.write('show\n');
    assert.equal(await within(readAll(socket), WAIT_MS, 'the TLS port to close the plain client'), '');
    await eventually(() => log.text().includes('tls-handshake-failed'), 'the handshake failure in the log');
    assert.doesNotMatch(log.text(), /\n\s+at /, 'no stack trace');
  });

  it('closes a client that never finishes its handshake, and one that drips it', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile, firstCommandTimeoutMs: 500 });
    const silent = net.connect(port, '127.0.0.1');
    const dripping = net.connect(port, '127.0.0.1');
    // The first bytes of a ClientHello, one every 100 ms: the timeout runs from the connection, not from the last byte.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
    let at = 0;
    const drip = setInterval(() => (at < hello.length && !dripping.destroyed ? dripping.write(hello.subarray(at, ++at)) : undefined), 100);
    t.after(() => clearInterval(drip));
    // The server may reset them (an error here, then the close): only the close matters.
    const closed = [silent, dripping].map((socket) => new Promise((resolve) => socket.on('error', () => {}).once('close', resolve)));
    await within(Promise.all(closed), WAIT_MS, 'both sockets to be closed by the handshake timeout');
  });

  it('counts clients in their handshake against the per-address limit', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile, maxClientsPerAddress: 2, firstCommandTimeoutMs: 1000 });
    const sockets = Array.from({ length: 10 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
    t.after(() => sockets.forEach((socket) => socket.destroy()));
    const closed = sockets.map((socket) => new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))));
    // Eight are closed at once; two stay in their handshake (until the first-command timeout).
    await eventually(async () => (await Promise.all(closed.map((c) => Promise.race([c, Promise.resolve(false)])))).filter(Boolean).length === 8, 'eight of ten closed');
    // Those two hold their places until their handshake times out; then a real client from the same address gets in.
    sockets.forEach((socket) => socket.destroy());
    await eventually(async () => {
      const client = await TftcpClient.connect({ host: '127.0.0.1', port, tls: { ca: certs.ca } }).catch(() => undefined);
      if (!client) return false;
      await client.exit();
      return true;
    }, 'a client to get in after the others left');
  });

  it('tells a plain client on a TLS port what the silence means', async (t) => {
    const certs = await certificates(t);
    const { port } = await startServer(t, { tlsCert: certs.certFile, tlsKey: certs.keyFile });
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    await assert.rejects(client.show(), /closed the connection without a word\. If that port speaks TLS, connect with --tls/);
  });

  it('takes a renewed certificate without a restart, and keeps the old one when the new files are wrong', async (t) => {
    const certs = await certificates(t);
    const folder = await scratchDir(t, 'tor-tls-renew-');
    const certFile = path.join(folder, 'live.crt');
    const keyFile = path.join(folder, 'live.key');
    await copyFile(certs.certFile, certFile);
    await copyFile(certs.keyFile, keyFile);
    const { server, port } = await startServer(t, { tlsCert: certFile, tlsKey: keyFile });
    const before = await servedCertificate(port);
    await copyFile(certs.selfSignedFile, certFile);
    // A certificate whose key has not been replaced yet: refused, the old pair keeps serving.
    assert.throws(() => server.reloadCertificate(), /does not fit the certificate/);
    assert.equal(await servedCertificate(port), before);
    await copyFile(certs.selfSignedKeyFile, keyFile);
    server.reloadCertificate();
    assert.notEqual(await servedCertificate(port), before);
  });
});

describe('TLS settings', () => {
  it('refuse half a pair and a TLS port without a certificate', () => {
    assert.throws(() => parseServerConfig(['--tls-cert', 'a.pem'], {}), (error: Error) => error instanceof ConfigError && /--tls-cert and --tls-key go together/.test(error.message));
    assert.throws(() => parseServerConfig(['--tls-port', '7778'], {}), /--tls-port needs a certificate/);
    assert.throws(() => parseServerConfig(['--port', '7778', '--tls-port', '7778', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {}), /--tls-port must differ from --port/);
    const config = parseServerConfig([], { TOR_TLS_CERT: 'c.pem', TOR_TLS_KEY: 'k.pem', TOR_TLS_PORT: '7778' });
    assert.ok(config !== 'help');
    assert.equal(config.tlsCert, path.resolve('c.pem'));
    assert.equal(config.tlsPort, 7778);
  });

  it('fail the start with the file that is wrong, before the folder is touched', async (t) => {
    const certs = await certificates(t);
    const dir = await scratchDir(t, 'tor-tls-bad-');
    const missing = await runNode(t, path.resolve(CLIENT_BIN, '../tor-server.js'), { args: ['--port', '0', '--dir', dir, '--tls-cert', path.join(dir, 'nope.crt'), '--tls-key', certs.keyFile], ms: WAIT_MS });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^tor-server: --tls-cert .*nope\.crt could not be read: there is no such file\n$/);
    const encryptedKey = path.join(dir, 'encrypted.key');
    execFileSync('openssl', ['pkey', '-in', certs.keyFile, '-aes256', '-passout', 'pass:secret', '-out', encryptedKey]);
    const encrypted = await runNode(t, path.resolve(CLIENT_BIN, '../tor-server.js'), { args: ['--port', '0', '--dir', dir, '--tls-cert', certs.certFile, '--tls-key', encryptedKey], ms: WAIT_MS });
    assert.equal(encrypted.code, 1);
    assert.match(encrypted.stderr, /is encrypted with a passphrase, which a server cannot type at start: decrypt it/);
    const swapped = await runNode(t, path.resolve(CLIENT_BIN, '../tor-server.js'), { args: ['--port', '0', '--dir', dir, '--tls-cert', certs.certFile, '--tls-key', certs.selfSignedKeyFile], ms: WAIT_MS });
    assert.equal(swapped.code, 1);
    assert.match(swapped.stderr, /does not fit the certificate/);
  });
});
