import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AccessLevel } from 'tor-server/protocol';
import type { ServerConfig } from 'tor-server/server';
import { TOR_SERVER_BIN, runNode, type Owner } from 'test-support';
import request from 'supertest';
import { SESSION_COOKIE } from '../src/api/index.js';
import type { AppOptions } from '../src/app.js';
import { startStack, type TestStack } from './helpers.js';

/** A stack whose tor-server keeps tokens in a state folder of its own, and ways to make and revoke them. */
export interface AuthStack extends TestStack {
  stateDir: string;
  /** `tor-server token add` (the operator's own command); resolves with the token, which the server reads at once. */
  addToken(label: string, access: AccessLevel, ...more: string[]): Promise<string>;
  /** `tor-server token revoke`, read by the server at once. */
  revoke(labelOrId: string): Promise<void>;
  http(): ReturnType<typeof request>;
}

/** A tor-server that requires sign-in (unless told otherwise), seeded with `files`, and the gateway in front of it. */
export async function startAuthStack(owner: Owner, options: { tor?: Partial<ServerConfig>; app?: Partial<AppOptions>; files?: Record<string, string | Buffer> } = {}): Promise<AuthStack> {
  // Removed only after the stack has closed (clean-ups run in the order they were registered):
  // a tor-server still counting a share download writes its token file into this folder.
  const parent = await mkdtemp(path.join(os.tmpdir(), 'gw-state-'));
  const stateDir = path.join(parent, 'state');
  let stack: TestStack;
  try {
    stack = await startStack(owner, { ...options, tor: { stateDir, auth: 'required', ...options.tor } });
  } finally {
    owner.after(() => rm(parent, { recursive: true, force: true }));
  }
  const admin = async (words: string[]) => {
    const run = await runNode(owner, TOR_SERVER_BIN, { args: ['token', ...words, '--state-dir', stateDir] });
    if (run.code !== 0) throw new Error(`token ${words.join(' ')}: ${run.stderr}`);
    await stack.server.auth.reload();
    return run.stdout;
  };
  return {
    ...stack,
    stateDir,
    async addToken(label, access, ...more) {
      const token = /tft_\S+/.exec(await admin(['add', label, '--access', access, ...more]))?.[0];
      if (!token) throw new Error('token add printed no token');
      return token;
    },
    async revoke(labelOrId) {
      await admin(['revoke', labelOrId]);
    },
    http: () => request(stack.app.server),
  };
}

/** The Cookie header that carries `token`. */
export function sessionCookie(token: string): string {
  return `${SESSION_COOKIE}=${token}`;
}

/** The session cookie a response sets, as its Set-Cookie line (undefined when it sets none). */
export function setCookieOf(headers: Record<string, unknown>): string | undefined {
  const lines = headers['set-cookie'] as string[] | undefined;
  return lines?.find((line) => line.startsWith(`${SESSION_COOKIE}=`));
}
