import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress } from '../../src/server/client-address.js';

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
