import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_BIN, TOR_SERVER_BIN } from 'test-support';

/** The built web app the gateway serves in these tests. */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');

/** Fails early with the command to run when a workspace has not been built. */
export function requireBuilt(): void {
  for (const [file, command] of [
    [TOR_SERVER_BIN, 'npm run build -w tor-server'],
    [GATEWAY_BIN, 'npm run build -w gateway'],
    [path.join(WEB_DIST, 'index.html'), 'npm run build -w web'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`${command}\` first`);
  }
}
