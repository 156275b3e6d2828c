import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireBuilt, startGateway, startTorServer, type Child } from './processes.js';

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
  /** Everything the two processes printed, for failure reports. */
  logs(): string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Extra tor-server flags, kept across restarts (`['--open-access', 'admin']`). */
  torServerArgs?: readonly string[];
}

/** Starts the stack; close() stops both processes and removes the folder. */
export async function startStack(files: Record<string, Buffer | string> = {}, options: StackOptions = {}): Promise<Stack> {
  requireBuilt();
  const torServerArgs = options.torServerArgs ?? [];
  const dir = await mkdtemp(path.join(tmpdir(), 'tft-web-e2e-'));
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);

  let tor: Child & { port: number } = await startTorServer(dir, 0, torServerArgs);
  const torPort = tor.port;
  let gateway: Child & { url: string; port: number };
  try {
    gateway = await startGateway(torPort);
  } catch (error) {
    await tor.stop();
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
      tor = await startTorServer(dir, torPort, torServerArgs);
    },
    freezeTorServer() {
      tor.process.kill('SIGSTOP');
    },
    thawTorServer() {
      tor.process.kill('SIGCONT');
    },
    async stopGateway() {
      await gateway.stop();
      earlierLogs += gateway.output();
    },
    async restartGateway() {
      gateway = await startGateway(torPort, gatewayPort);
    },
    logs: () => `${earlierLogs}--- tor-server ---\n${tor.output()}\n--- gateway ---\n${gateway.output()}`,
    async close() {
      await Promise.all([gateway.stop(), tor.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
