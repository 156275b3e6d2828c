import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { TrustedProxies, clientAddress, parseProxyEntry } from '../../src/server/client-address.js';

describe('clientAddress', () => {
  it('writes an IPv4-mapped IPv6 address as the IPv4 address it is', () => {
    assert.equal(clientAddress('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(clientAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  });

  it('leaves IPv4 and other IPv6 addresses as they are', () => {
    for (const address of ['127.0.0.1', '::1', '2001:db8::1', '::ffff:abcd', 'fe80::ffff:1.2.3.4']) assert.equal(clientAddress(address), address);
  });

  it('a socket that has lost its address is ?', () => {
    assert.equal(clientAddress(undefined), '?');
  });
});

test('a --trusted-proxies entry is an address, a CIDR range or a host name; anything else says which it is not', () => {
  assert.deepEqual(parseProxyEntry('10.0.0.5'), { kind: 'address', address: '10.0.0.5', prefix: 32 });
  assert.deepEqual(parseProxyEntry('172.16.0.0/12'), { kind: 'range', address: '172.16.0.0', prefix: 12 });
  assert.deepEqual(parseProxyEntry('fd00::/8'), { kind: 'range', address: 'fd00::', prefix: 8 });
  assert.deepEqual(parseProxyEntry('Gateway.internal'), { kind: 'host', host: 'gateway.internal' });
  assert.throws(() => parseProxyEntry('10.0.0.0/40'), /prefix length outside 0-32/);
  assert.throws(() => parseProxyEntry('gate way'), /is not an IP address, a CIDR range/);
  assert.throws(() => parseProxyEntry('gateway/8'), /is not an IP address, a CIDR range/);
});

test('TrustedProxies trusts addresses, whole ranges, and what host names resolve to now', async () => {
  const answers = new Map<string, string[]>([['gateway', ['172.20.0.7']]]);
  const proxies = new TrustedProxies(['10.0.0.5', '172.16.0.0/12', 'fd00::/8', 'gateway'], async (host) => {
    const found = answers.get(host);
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found;
  });
  assert.ok(proxies.hasHostNames);
  assert.ok(proxies.has('10.0.0.5'));
  assert.ok(!proxies.has('10.0.0.6'));
  assert.ok(proxies.has('172.31.255.1'));
  assert.ok(!proxies.has('172.32.0.1'));
  assert.ok(proxies.has('fd12::9'));
  assert.ok(!proxies.has('?'));
  // Before the first look-up the name trusts nothing; after it, its address.
  assert.ok(!proxies.has('192.168.5.5'));
  answers.set('gateway', ['192.168.5.5', '::ffff:192.168.5.6']);
  assert.deepEqual(await proxies.resolve(), []);
  assert.ok(proxies.has('192.168.5.5'));
  assert.ok(proxies.has('192.168.5.6'));
  // A container that came back elsewhere: the old address is trusted no more.
  answers.set('gateway', ['192.168.9.9']);
  await proxies.resolve();
  assert.ok(!proxies.has('192.168.5.5'));
  assert.ok(proxies.has('192.168.9.9'));
  answers.delete('gateway');
  assert.deepEqual(await proxies.resolve(), ['gateway: ENOTFOUND']);
  assert.ok(!proxies.has('192.168.9.9'));
  assert.ok(proxies.has('10.0.0.5'));
});

test('no trusted proxies trusts nobody', () => {
  assert.ok(!new TrustedProxies([]).has('127.0.0.1'));
});
