import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { test } from 'node:test';
import { eventually } from 'test-support';
import { ApiPath, filePath } from '../../src/api/index.js';
import { listen, startApp } from '../helpers.js';
import { TftcpProxy } from '../tftcp-proxy.js';
import { startAuthStack } from '../auth-helpers.js';

/** GET `path` from `localAddress` (any 127.x address reaches the gateway on 127.0.0.1) with a Bearer token. */
function getFrom(url: string, localAddress: string, token: string): http.ClientRequest {
  const request = http.get(url, { localAddress, agent: false, headers: { authorization: `Bearer ${token}` } });
  request.on('error', () => {});
  return request;
}

/** The status of a response, read to its end. */
async function statusOf(request: http.ClientRequest): Promise<number> {
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  response.resume();
  await once(response, 'end');
  return response.statusCode!;
}

test('each connection names the address of the request it is opened for, even when it waited for a slot while the same user came from elsewhere', async (t) => {
  const stack = await startAuthStack(t, { tor: { trustedProxies: ['127.0.0.1'] }, files: { 'big.bin': Buffer.alloc(32 * 1024 * 1024) } });
  const proxy = await TftcpProxy.start(t, stack.server.address().port);
  // One connection in all: whoever comes while the download holds it waits in line.
  const app = await startApp(t, proxy.port, { maxUpstream: 1, spoolDir: stack.spoolDir });
  const url = await listen(app);
  const token = await stack.addToken('alice', 'read');

  const download = getFrom(`${url}${filePath('big.bin')}`, '127.0.0.2', token);
  const [held] = (await once(download, 'response')) as [http.IncomingMessage];
  held.pause();
  const fromThree = getFrom(`${url}${ApiPath.files}`, '127.0.0.3', token);
  await eventually(() => app.upstream.queuedCount === 1, 'the listing from .3 to wait for a slot');
  const fromFour = getFrom(`${url}${ApiPath.files}`, '127.0.0.4', token);
  await eventually(() => app.upstream.queuedCount === 2, 'the listing from .4 to wait too');
  download.destroy();
  assert.deepEqual(await Promise.all([statusOf(fromThree), statusOf(fromFour)]), [200, 200]);

  const named = proxy.lines.filter((line) => line.startsWith('client '));
  assert.deepEqual(new Set(named), new Set(['client 127.0.0.2', 'client 127.0.0.3', 'client 127.0.0.4']), named.join(', '));
});
