import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayListening, parseListening, torServerListening } from '../../src/options/index.js';

describe('listening lines', () => {
  it('reads back what the tor-server prints', () => {
    const line = torServerListening({ host: '127.0.0.1', port: 7777, dir: '/srv/tor files' });
    assert.equal(line, 'tor-server listening on 127.0.0.1:7777, serving /srv/tor files');
    assert.deepEqual(parseListening(line), { program: 'tor-server', host: '127.0.0.1', port: 7777, dir: '/srv/tor files' });
  });

  it('reads back what the gateway prints, with an IPv6 host in brackets', () => {
    const line = gatewayListening({ host: '::1', port: 8080, torHost: '127.0.0.1', torPort: 7777 });
    assert.equal(line, 'tor-gateway listening on http://[::1]:8080 (tor-server 127.0.0.1:7777)');
    assert.deepEqual(parseListening(line), { program: 'tor-gateway', url: 'http://[::1]:8080', host: '[::1]', port: 8080, torHost: '127.0.0.1', torPort: 7777 });
  });

  it('says which tor-server port speaks TLS', () => {
    const only = torServerListening({ host: '0.0.0.0', port: 7777, tls: true, dir: '/srv' });
    assert.equal(only, 'tor-server listening on 0.0.0.0:7777 (TLS), serving /srv');
    assert.deepEqual(parseListening(only), { program: 'tor-server', host: '0.0.0.0', port: 7777, tls: true, dir: '/srv' });
    const both = torServerListening({ host: '0.0.0.0', port: 7777, tlsPort: 7778, dir: '/srv, with a comma' });
    assert.equal(both, 'tor-server listening on 0.0.0.0:7777, TLS on 7778, serving /srv, with a comma');
    assert.deepEqual(parseListening(both), { program: 'tor-server', host: '0.0.0.0', port: 7777, tlsPort: 7778, dir: '/srv, with a comma' });
    const https = gatewayListening({ host: '0.0.0.0', port: 8443, https: true, torHost: 'tor', torPort: 7777 });
    assert.equal(https, 'tor-gateway listening on https://0.0.0.0:8443 (tor-server tor:7777)');
    assert.deepEqual(parseListening(https), { program: 'tor-gateway', url: 'https://0.0.0.0:8443', https: true, host: '0.0.0.0', port: 8443, torHost: 'tor', torPort: 7777 });
  });

  it('is undefined for any other line', () => {
    assert.equal(parseListening('tor-server: port 7777 on 0.0.0.0 is already in use.'), undefined);
  });
});
