/** What the table measures against: the files on tmpfs and every process, started once for all rounds. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_BIN, TOR_SERVER_BIN, sha256File, spawnGateway, spawnTorServer, type GatewayProcess, type Scope, type TorServerProcess } from 'test-support';
import { fillFolder, log, nginxAcceptingPuts, nginxInstalled, nginxRelaying, nginxServing, writeRandomFile } from 'test-support/bench';

/** tmpfs when the machine has it: the disk's noise stays out of the figures. */
const TMPFS = '/dev/shm';
export const BIG_FILE = 'big.bin';
export const SMALL_FILE = 'small.bin';
export const SMALL_FILE_BYTES = 4 * 1024;
/**
 * Every bench connection comes from 127.0.0.1: lift the per-address caps the 16 load
 * connections (and a transfer slot a finished request has not given back yet) would meet.
 */
const TOR_SERVER_ARGS = ['--log-level', 'warn', '--max-clients-per-address', '1000'];
const GATEWAY_TRANSFERS_PER_ADDRESS = 64;

export interface Nginx {
  /** Serves the server folder (GET, sendfile). */
  filePort: number;
  /** Accepts PUTs into `putDir` (dav). */
  putPort: number;
  putDir: string;
  /** Relays the file server, unbuffered. */
  relayPort: number;
}

export interface Stack {
  /** The folder everything lives in: tmpfs when the machine has it. */
  base: string;
  onTmpfs: boolean;
  size: number;
  /** The big file, in the served folder. */
  source: string;
  sourceHash: string;
  small: Buffer;
  serverDir: string;
  /** The tor-client's home. */
  home: string;
  tor: TorServerProcess;
  gateway: GatewayProcess;
  /** A tor-server and gateway serving the big file in a folder of 10,000 files, for the range row. */
  rangeTor: TorServerProcess;
  rangeGateway: GatewayProcess;
  /** Undefined when nginx is not installed. */
  nginx?: Nginx;
}

/** Writes the files and starts every process, owned by `scope` (the work folder too). */
export async function startStack(scope: Scope, size: number): Promise<Stack> {
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build');
  const base = existsSync(TMPFS) ? TMPFS : os.tmpdir();
  const work = await fs.mkdtemp(path.join(base, 'bench-table-'));
  scope.after(() => fs.rm(work, { recursive: true, force: true }));
  const serverDir = path.join(work, 'server');
  const rangeDir = path.join(work, 'range');
  const home = path.join(work, 'home');
  const webDir = path.join(work, 'web');
  for (const dir of [serverDir, rangeDir, home, webDir]) await fs.mkdir(dir);
  await fs.writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>bench</title>');

  log(`writing a ${(size / 1024 ** 2).toFixed(0)} MiB test file in ${work}`);
  const source = path.join(serverDir, BIG_FILE);
  await writeRandomFile(source, size);
  const sourceHash = await sha256File(source);
  const small = randomBytes(SMALL_FILE_BYTES);
  await fs.writeFile(path.join(serverDir, SMALL_FILE), small);
  // The same bytes (a hard link on the same tmpfs) among 10,000 others.
  await fs.link(source, path.join(rangeDir, BIG_FILE));
  await fillFolder(rangeDir);

  const startPair = async (dir: string) => {
    const tor = await spawnTorServer(scope, { dir, args: TOR_SERVER_ARGS });
    const gateway = await spawnGateway(scope, {
      torPort: tor.port,
      webDir,
      args: ['--max-upload-size', String(size * 2), '--max-transfers-per-address', String(GATEWAY_TRANSFERS_PER_ADDRESS)],
    });
    return { tor, gateway };
  };
  const { tor, gateway } = await startPair(serverDir);
  const { tor: rangeTor, gateway: rangeGateway } = await startPair(rangeDir);
  return { base, onTmpfs: base === TMPFS, size, source, sourceHash, small, serverDir, home, tor, gateway, rangeTor, rangeGateway, nginx: nginxInstalled() ? await startNginx(scope, work, serverDir) : undefined };
}

async function startNginx(scope: Scope, work: string, serverDir: string): Promise<Nginx> {
  const putDir = path.join(work, 'nginx-put');
  await fs.mkdir(putDir);
  // Its prefix (with the body's temp folder) on the same tmpfs as putDir: the stored body is renamed, not copied.
  const filePort = await nginxServing(scope, path.join(work, 'nginx-file'), serverDir);
  const putPort = await nginxAcceptingPuts(scope, path.join(work, 'nginx-put-prefix'), putDir);
  const relayPort = await nginxRelaying(scope, path.join(work, 'nginx-relay'), filePort);
  return { filePort, putPort, putDir, relayPort };
}
