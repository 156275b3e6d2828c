import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AccessLevel } from 'gateway/api';
import { runNode, Scope, scratchDir, spawnGateway, spawnTorServer, TOR_SERVER_BIN, type GatewayProcess, type TorServerProcess } from 'test-support';
import { WEB_DIST, requireBuilt } from './processes.js';

/** A real tor-server and gateway on port 0 over a scratch folder seeded with `files`. */
export interface Stack {
  /** The gateway's base URL, where the app is served. */
  url: string;
  /** The tor-server's folder. */
  dir: string;
  torPort: number;
  /** Stops the tor-server (the gateway stays up). */
  stopTorServer(): Promise<void>;
  /** Starts the tor-server again on the same port. */
  restartTorServer(): Promise<void>;
  /** Freezes the tor-server (SIGSTOP): connections open, nothing answered, until thawed. */
  freezeTorServer(): void;
  /** Lets a frozen tor-server run again (SIGCONT). */
  thawTorServer(): void;
  /** Stops the gateway (the tor-server stays up). */
  stopGateway(): Promise<void>;
  /** Starts the gateway again on the same port. */
  restartGateway(): Promise<void>;
  /**
   * Runs `tor-server token <words...>` on the stack's state folder (as an operator would, while
   * the server runs) and returns what it printed; fails when it fails. Needs `auth`.
   */
  tokenAdmin(...words: string[]): Promise<string>;
  /** The tokens of `options.tokens`, by label. */
  tokens: Record<string, string>;
  /** Makes a token with `token add` and returns it (`tft_...`). Needs `auth`. */
  addToken(label: string, access: AccessLevel, ...more: string[]): Promise<string>;
  /** Everything the two processes printed, for failure reports. */
  logs(): string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra tor-server flags, kept across restarts (`['--open-access', 'admin']`). */
  torServerArgs?: readonly string[];
  /** Extra gateway flags, kept across restarts (`['--max-upstream', '4']`). */
  gatewayArgs?: readonly string[];
  /** Sign-in required (`--auth required`), with tokens in a scratch `--state-dir`. */
  auth?: boolean;
  /** Tokens made (with `token add`) before the tor-server starts, by label; needs `auth`. */
  tokens?: Record<string, AccessLevel>;
}

/** A token as `token add` prints it. */
const TOKEN_LINE = /^tft_\S+$/m;

/** Starts the stack; close() stops both processes and removes the folder. */
export async function startStack(files: Record<string, Buffer | string> = {}, options: StackOptions = {}): Promise<Stack> {
  requireBuilt();
  // Owns the folder and every process the stack starts, restarts included.
  const scope = new Scope();
  const stateDir = options.auth ? path.join(await scratchDir(scope, 'tft-web-e2e-state-'), 'state') : undefined;
  const torServerArgs = [...(stateDir ? ['--auth', 'required', '--state-dir', stateDir] : []), ...(options.torServerArgs ?? [])];
  const tokenAdmin = async (...words: string[]) => {
    if (!stateDir) throw new Error('tokenAdmin needs a stack started with auth: true');
    const run = await runNode(scope, TOR_SERVER_BIN, { args: ['token', ...words, '--state-dir', stateDir] });
    if (run.code !== 0) throw new Error(`tor-server token ${words.join(' ')} failed (${run.code}): ${run.stdout}${run.stderr}`);
    return run.stdout;
  };
  const addToken = async (label: string, access: AccessLevel, ...more: string[]) => {
    const printed = await tokenAdmin('add', label, '--access', access, ...more);
    const token = TOKEN_LINE.exec(printed)?.[0];
    if (!token) throw new Error(`token add printed no token: ${printed}`);
    return token;
  };
  const tokens: Record<string, string> = {};
  const startGateway = (port?: number) => spawnGateway(scope, { torPort, port, webDir: WEB_DIST, args: options.gatewayArgs && [...options.gatewayArgs] });
  let tor: TorServerProcess;
  let gateway: GatewayProcess;
  let dir: string;
  let torPort: number;
  try {
    dir = await scratchDir(scope, 'tft-web-e2e-');
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    for (const [label, access] of Object.entries(options.tokens ?? {})) tokens[label] = await addToken(label, access);
    tor = await spawnTorServer(scope, { dir, args: torServerArgs });
    torPort = tor.port;
    gateway = await startGateway();
  } catch (error) {
    await scope.close();
    throw error;
  }
  const gatewayPort = gateway.port;
  let earlierLogs = '';

  return {
    url: gateway.url,
    dir,
    torPort,
    async stopTorServer() {
      await tor.stop();
      earlierLogs += tor.output();
    },
    async restartTorServer() {
      tor = await spawnTorServer(scope, { dir, port: torPort, args: torServerArgs });
    },
    freezeTorServer() {
      tor.child.kill('SIGSTOP');
    },
    thawTorServer() {
      tor.child.kill('SIGCONT');
    },
    tokenAdmin,
    tokens,
    addToken,
    async stopGateway() {
      await gateway.stop();
      earlierLogs += gateway.output();
    },
    async restartGateway() {
      gateway = await startGateway(gatewayPort);
    },
    logs: () => `${earlierLogs}--- tor-server ---\n${tor.output()}\n--- gateway ---\n${gateway.output()}`,
    async close() {
      await Promise.all([gateway.stop(), tor.stop()]);
      await scope.close();
    },
  };
}
