import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Scope, scratchDir, spawnGateway, spawnTorServer, type GatewayProcess, type TorServerProcess } from 'test-support';
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
  const torServerArgs = [...(options.torServerArgs ?? [])];
  // Owns the folder and every process the stack starts, restarts included.
  const scope = new Scope();
  const startGateway = (port?: number) => spawnGateway(scope, { torPort, port, webDir: WEB_DIST });
  let tor: TorServerProcess;
  let gateway: GatewayProcess;
  let dir: string;
  let torPort: number;
  try {
    dir = await scratchDir(scope, 'tft-web-e2e-');
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
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
