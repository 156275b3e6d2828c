/**
 * `npm run bench -w gateway`: 100 concurrent WebSocket sessions (show + search each) and the
 * gateway's peak RSS with them. Its transfers, range latency and nginx beside them are in the
 * root's `npm run bench:table`. One run; temp files removed.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_BIN, Scope, TOR_SERVER_BIN, spawnGateway, spawnTorServer } from 'test-support';
import { log, memoryRow, printTable, zeroRow, type Row } from 'test-support/bench';
import { wsCrowd } from './ws-crowd.js';

const SESSIONS = 100;
const RSS_LIMIT_MB = 200;

async function main(): Promise<void> {
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gateway-bench-'));
  // Owns every process the run starts.
  const scope = new Scope();
  const rows: Row[] = [];
  try {
    const serverDir = path.join(work, 'server');
    await fs.mkdir(serverDir);
    // What the sessions' search must find, once each.
    await fs.writeFile(path.join(serverDir, 'big.bin'), 'x');
    const tor = await spawnTorServer(scope, { dir: serverDir, args: ['--log-level', 'warn'] });
    const webDir = path.join(work, 'web');
    await fs.mkdir(webDir);
    await fs.writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>bench</title>');
    const gateway = await spawnGateway(scope, {
      torPort: tor.port,
      webDir,
      // Every bench session comes from 127.0.0.1: lift the per-address session cap for them.
      args: ['--max-ws-per-address', String(SESSIONS)],
    });
    log(`${SESSIONS} concurrent WebSocket sessions, show + search each`);
    const crowd = await wsCrowd(gateway.url, SESSIONS);
    rows.push(zeroRow(`${SESSIONS} WebSocket sessions × (show + search)`, crowd.errors, crowd.ms));
    rows.push(memoryRow(`gateway peak RSS (VmHWM) with the ${SESSIONS} sessions`, await gateway.peakRss(), RSS_LIMIT_MB));
  } finally {
    await scope.close();
    await fs.rm(work, { recursive: true, force: true });
  }
  printTable(`gateway bench: 127.0.0.1, ${os.cpus().length} cores, Node ${process.version}`, rows);
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
