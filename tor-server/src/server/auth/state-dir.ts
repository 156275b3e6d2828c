import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../options/index.js';
import type { AccessLevel } from '../../protocol/constants.js';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/**
 * Refuses a state folder inside the served folder (or the served folder itself): tokens must
 * never be files clients can reach, or write. Compared by real paths, so a symlink (to the
 * state folder, the served folder or any folder above them) cannot smuggle one into the other.
 */
export function checkStateDir(stateDir: string, servedDir: string): void {
  const relative = path.relative(realPath(servedDir), realPath(stateDir));
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
    throw new ConfigError(`--state-dir (TOR_STATE_DIR): ${path.resolve(stateDir)} is inside the served folder ${path.resolve(servedDir)}; choose a folder outside it, such as ${path.join(path.dirname(path.resolve(servedDir)), 'tor-state')}`, 'TOR_ERR_CONFIG');
  }
}

/** The real path of `file`, which need not exist yet: its nearest existing folder resolved, the rest appended. */
function realPath(file: string): string {
  const absolute = path.resolve(file);
  const missing: string[] = [];
  let existing = absolute;
  while (!existsSync(existing)) {
    missing.unshift(path.basename(existing));
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  return path.join(realpathSync(existing), ...missing);
}

/** The start-up warning for a server open to its network without tokens, or undefined when it is not. */
export function openModeWarning(host: string, access: AccessLevel, required: boolean): string | undefined {
  if (required || LOOPBACK.test(host)) return undefined;
  return `anyone who can reach this port has ${access} access; create a token with "tor-server token add <label> --access admin" to require sign-in (or --auth required)`;
}
