import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TftcpReplyError } from 'tor-server/client';
import { TOKEN_REVOKED } from 'tor-server/protocol';
import { eventually } from 'test-support';
import { startAuthStack } from '../auth-helpers.js';

const revokedRefusal = (error: unknown) => error instanceof TftcpReplyError && error.reply === TOKEN_REVOKED;

test('a connection the tor-server signed out (its token revoked) is discarded, never given back to the user\'s pools', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  const token = await stack.addToken('alice', 'write');
  const user = stack.app.identities.forToken(token);
  // One connection in each pool, idle after its command.
  await user.commandPool.run((client) => client.list(''));
  const { client } = await user.transferPool.start((connection) => connection.stat('a.txt'));
  user.transferPool.finish(client);
  assert.equal(user.commandPool.openCount, 1);
  assert.equal(user.transferPool.idleCount, 1);

  await stack.revoke('alice');
  await assert.rejects(user.commandPool.run((connection) => connection.list('')), revokedRefusal);
  await assert.rejects(user.transferPool.start((connection) => connection.stat('a.txt')), revokedRefusal);
  assert.equal(user.transferPool.idleCount, 0, 'the transfer connection was not kept');
  await eventually(() => user.commandPool.openCount === 0, 'the signed-out command connection to be closed');
  await eventually(() => stack.server.connections.size === 0, 'the tor-server to see both closed');
});
