import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_NAME_TRIES, headLookup, nextFreeName, type NameLookup } from '../../src/lib/name-check.js';

describe('headLookup', () => {
  let server: http.Server;
  let base: string;
  const methods: string[] = [];

  before(async () => {
    // A real HTTP server answering HEAD /api/files/<name> as the gateway does.
    server = http.createServer((request, response) => {
      methods.push(`${request.method} ${request.url}`);
      const name = decodeURIComponent((request.url ?? '').replace('/api/files/', ''));
      const status = name === 'clip.mp4' ? 200 : name === 'down.txt' ? 503 : 404;
      response.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('reads 200 as taken, 404 as free and anything else as unknown, sending no body', async () => {
    const lookup = headLookup(fetch, base);
    assert.equal(await lookup('clip.mp4'), 'taken');
    assert.equal(await lookup('new file #1.txt'), 'free');
    assert.equal(await lookup('down.txt'), 'unknown');
    assert.deepEqual(methods, ['HEAD /api/files/clip.mp4', 'HEAD /api/files/new%20file%20%231.txt', 'HEAD /api/files/down.txt']);
  });

  it('is unknown when the gateway cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    assert.equal(await headLookup(fetch, `http://127.0.0.1:${port}`)('a.txt'), 'unknown');
  });
});

describe('nextFreeName', () => {
  const serverWith = (...names: string[]): NameLookup => async (name) => (names.includes(name) ? 'taken' : 'free');

  it('skips names the page knows and names the server has', async () => {
    const known = new Set(['clip (1).mp4']);
    assert.equal(await nextFreeName('clip.mp4', known, serverWith('clip.mp4', 'clip (2).mp4')), 'clip (3).mp4');
  });

  it('keeps double extensions whole and counts on from a number already there', async () => {
    assert.equal(await nextFreeName('backup.tar.gz', new Set(), serverWith()), 'backup (1).tar.gz');
    assert.equal(await nextFreeName('clip (4).mp4', new Set(), serverWith()), 'clip (5).mp4');
  });

  it('offers a candidate it cannot check, and stops asking after MAX_NAME_TRIES', async () => {
    assert.equal(await nextFreeName('a.txt', new Set(), async () => 'unknown'), 'a (1).txt');
    let asked = 0;
    const everythingTaken: NameLookup = async () => {
      asked += 1;
      return 'taken';
    };
    assert.equal(await nextFreeName('a.txt', new Set(), everythingTaken), `a (${MAX_NAME_TRIES + 1}).txt`);
    assert.equal(asked, MAX_NAME_TRIES);
  });
});
