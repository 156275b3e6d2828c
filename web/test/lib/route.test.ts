import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharePagePath } from 'gateway/api';
import { routeOf } from '../../src/lib/route.js';

describe('routeOf', () => {
  it('opens a share link page for the path the gateway hands out', () => {
    assert.deepEqual(routeOf(sharePagePath('tft_0a1b2c3d_x-Y')), { page: 'share', token: 'tft_0a1b2c3d_x-Y' });
    assert.deepEqual(routeOf('/s/a%20b'), { page: 'share', token: 'a b' });
  });

  it('opens the file manager everywhere else', () => {
    for (const path of ['/', '/s/', '/s', '/s/a/b', '/settings', '/share/x']) assert.deepEqual(routeOf(path), { page: 'files' }, path);
  });

  it('keeps a malformed escape as the token (the gateway then calls it unknown)', () => {
    assert.deepEqual(routeOf('/s/%E0%A4%A'), { page: 'share', token: '%E0%A4%A' });
  });
});
