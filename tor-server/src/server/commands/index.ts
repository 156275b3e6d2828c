import { auth, client } from './auth.js';
import { abort } from './abort.js';
import { begin, create } from './begin.js';
import { remove, rename } from './change-files.js';
import type { CommandHandler } from './command.js';
import { exit } from './exit.js';
import { search, show } from './listing.js';
import { commit } from './commit.js';
import { put } from './put.js';
import { status } from './status.js';
import { download, range } from './transfer-out.js';
import { hash, stat } from './file-info.js';
import { share, shares, unshare } from './share.js';
import { upload } from './upload.js';
import { watch } from './watch.js';
import { whoami } from './whoami.js';

const REGISTRY = new Map<string, CommandHandler>([show, search, download, range, upload, exit, stat, hash, remove, rename, watch, whoami, auth, client, share, shares, unshare, begin, create, put, status, commit, abort].map((c) => [c.name, c]));

/** The handler for a command word; undefined when TFTCP has no such command. */
export function findCommand(word: string): CommandHandler | undefined {
  return REGISTRY.get(word);
}

export type { CommandHandler } from './command.js';
