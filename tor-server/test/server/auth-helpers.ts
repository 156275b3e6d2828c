import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { scratchDir } from 'test-support';
import { formatSignedInLine } from '../../src/protocol/auth.js';
import type { AccessLevel } from '../../src/protocol/constants.js';
import { TokenFile } from '../../src/server/auth/token-file.js';
import { addToken, type NewToken } from '../../src/server/auth/tokens.js';
import type { ServerConfig } from '../../src/server/index.js';
import type { Logger } from '../../src/server/logger.js';
import { LineClient, startServer, type TestServer } from '../helpers.js';

/** A test server with a state folder of its own, and a way to make tokens in it. */
export interface AuthServer extends TestServer {
  stateDir: string;
  file: TokenFile;
  /** Adds a token (as `token add` does) and makes the running server read it at once; resolves with the token text. */
  addToken(label: string, access: AccessLevel, more?: Partial<NewToken>): Promise<string>;
}

/** Starts an in-process server whose state folder the test can reach. */
export async function startAuthServer(t: TestContext, options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<AuthServer> {
  const stateDir = path.join(await scratchDir(t, 'tor-state-'), 'state');
  const started = await startServer(t, { ...options, stateDir });
  const file = new TokenFile(stateDir);
  return {
    ...started,
    stateDir,
    file,
    async addToken(label, access, more = {}) {
      const { token } = await addToken(file, { label, access, ...more });
      await started.server.auth.reload();
      return token;
    },
  };
}

/** Connects and signs in with `token`, asserting the two reply lines. */
export async function signedIn(t: TestContext, port: number, token: string, label: string, access: AccessLevel): Promise<LineClient> {
  const client = await LineClient.connect(t, port);
  assert.deepEqual([await client.request(`auth ${token}`), await client.line()], ['ok', formatSignedInLine(label, access)]);
  return client;
}
