import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { takeTokenFragment, type AddressBar } from '../../src/lib/token-fragment.js';

/** An address bar that records what replaceState made of it. */
function addressBar(pathname: string, search: string, hash: string): AddressBar & { replaced: string[] } {
  const replaced: string[] = [];
  return {
    replaced,
    location: { pathname, search, hash },
    history: { state: { kept: true }, replaceState: (data, _unused, url) => (assert.deepEqual(data, { kept: true }), replaced.push(url)) },
  };
}

describe('takeTokenFragment', () => {
  it('takes the token and leaves an address without it, keeping path and query', () => {
    const bar = addressBar('/', '?search=a', '#token=tft_0a1b2c3d_s3cret-Secret_x');
    assert.equal(takeTokenFragment(bar), 'tft_0a1b2c3d_s3cret-Secret_x');
    assert.deepEqual(bar.replaced, ['/?search=a']);
  });

  it('keeps other fragment fields', () => {
    const bar = addressBar('/', '', '#view=grid&token=abc');
    assert.equal(takeTokenFragment(bar), 'abc');
    assert.deepEqual(bar.replaced, ['/#view=grid']);
  });

  it('decodes a percent-encoded token', () => {
    const bar = addressBar('/', '', '#token=a%2Bb');
    assert.equal(takeTokenFragment(bar), 'a+b');
  });

  it('removes an empty token field and signs in with nothing', () => {
    const bar = addressBar('/', '', '#token=');
    assert.equal(takeTokenFragment(bar), null);
    assert.deepEqual(bar.replaced, ['/']);
  });

  it('leaves an address without a token alone', () => {
    for (const hash of ['', '#', '#file-list', '#tokens=x']) {
      const bar = addressBar('/', '', hash);
      assert.equal(takeTokenFragment(bar), null);
      assert.deepEqual(bar.replaced, []);
    }
  });
});
