import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { HostPolicy, defaultAllowedHosts, hostnameOf, hostnameOfSetting } from '../../src/lib/hosts.js';

test('the host name of a Host header: any port, lower case, IPv6 in brackets, no trailing dot', () => {
  assert.equal(hostnameOf('Files.LAN:8080'), 'files.lan');
  assert.equal(hostnameOf('files.lan.'), 'files.lan');
  assert.equal(hostnameOf('[::1]:8080'), '[::1]');
  assert.equal(hostnameOf('127.0.0.1'), '127.0.0.1');
  for (const bad of [undefined, '', 'a b', 'user@host', 'host/path', '[::1']) assert.equal(hostnameOf(bad), undefined, String(bad));
});

test('a host as an operator writes it: the same rules, and a bare IPv6 address gets its brackets', () => {
  assert.equal(hostnameOfSetting('Files.LAN.:8080'), 'files.lan');
  assert.equal(hostnameOfSetting('::1'), '[::1]');
  assert.equal(hostnameOfSetting('fe80::1'), '[fe80::1]');
  assert.equal(hostnameOfSetting('[fe80::1]:8080'), '[fe80::1]');
  for (const bad of ['', 'a b', 'user@host', 'host/path', 'files.lan?x', 'files.lan#x']) assert.equal(hostnameOfSetting(bad), undefined, bad);
});

test('a gateway on one address answers loopback names and that address only', () => {
  const policy = new HostPolicy(defaultAllowedHosts('192.0.2.10'));
  for (const host of ['localhost:8080', '127.0.0.1:1', '[::1]:8080', '192.0.2.10:8080', 'LOCALHOST']) assert.equal(policy.allows(host), true, host);
  for (const host of [undefined, 'evil.example:8080', 'localhost.evil.example', '192.0.2.11:8080', os.hostname()]) assert.equal(policy.allows(host), false, String(host));
});

test('a gateway on 0.0.0.0 or :: also answers every interface address and the machine name; --allowed-hosts adds more', () => {
  for (const listen of ['0.0.0.0', '::']) {
    const policy = new HostPolicy([...defaultAllowedHosts(listen), 'files.example.org']);
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const { address, family } of addresses ?? []) {
        const host = family === 'IPv6' ? `[${address}]:8080` : `${address}:8080`;
        assert.equal(policy.allows(host), true, host);
      }
    }
    assert.equal(policy.allows(`${os.hostname()}:8080`), true);
    assert.equal(policy.allows('files.example.org'), true);
    assert.equal(policy.allows('files.example.org.evil.example'), false);
  }
});

test('asked again and again, with many ports, the answers stay the same (allowed Host headers are remembered, within a bound)', () => {
  const policy = new HostPolicy(defaultAllowedHosts('127.0.0.1'));
  for (let round = 0; round < 3; round++) {
    for (let port = 1; port <= 200; port++) assert.equal(policy.allows(`localhost:${port}`), true);
    for (const host of ['evil.example', 'localhost.evil.example:1', 'localhost:1/path', '', undefined]) assert.equal(policy.allows(host), false, String(host));
  }
});
