import { constants } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessLevel } from '../../protocol/constants.js';

/** The token file inside the state folder. */
export const TOKEN_FILE_NAME = 'tokens.json';
const LOCK_SUFFIX = '.lock';
const FILE_FORMAT = 1;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
// Writers hold the lock for milliseconds; one older than this was left by a process that died.
const STALE_LOCK_MS = 10_000;
const LOCK_RETRY_MS = 20;
// Longer than a stale lock lives: a writer that died holding it delays the next one, never fails it.
const LOCK_WAIT_MS = STALE_LOCK_MS + 5_000;

/** One token as the state folder keeps it: never the secret, only its hash. */
export interface TokenRecord {
  id: string;
  label: string;
  access: AccessLevel;
  /** sha256 of the secret, hex. */
  hash: string;
  /** ISO time. */
  created: string;
  /** ISO time, or null for never. */
  expires: string | null;
  /** The one file the token may see, or null for all. */
  only: string | null;
  /** `share`: a read token for one file made by the `share` command. */
  kind: 'token' | 'share';
  /** Shares: completed full downloads allowed, null for unlimited. */
  maxDownloads: number | null;
  /** Shares: completed full downloads so far. */
  downloads: number;
  /** Shares: the id of the token that made it, `open` when a client not signed in made it (open mode), null when the operator did. */
  createdBy: string | null;
}

interface TokenFileContent {
  format: number;
  tokens: TokenRecord[];
}

/** The token file of a state folder, read and changed by the server and the `token` subcommands alike. */
export class TokenFile {
  readonly path: string;
  readonly #dir: string;
  #updating: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.#dir = path.resolve(stateDir);
    this.path = path.join(this.#dir, TOKEN_FILE_NAME);
  }

  /** The tokens in the file; none when the file (or the folder) does not exist yet. */
  async read(): Promise<TokenRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let content: TokenFileContent;
    try {
      content = JSON.parse(text) as TokenFileContent;
    } catch (error) {
      throw new Error(`${this.path} is not valid JSON (${(error as Error).message}); restore it from a backup, or remove it to start without tokens`);
    }
    if (content?.format !== FILE_FORMAT || !Array.isArray(content.tokens)) throw new Error(`${this.path} is not a token file this version can read`);
    return content.tokens;
  }

  /**
   * Reads the tokens, lets `change` edit them, and writes the result atomically (temp file,
   * fsync, rename, folder fsync), all under a lock file, so a subcommand and a running server
   * never lose each other's changes. Resolves with what `change` returned.
   */
  update<T>(change: (tokens: TokenRecord[]) => T): Promise<T> {
    // One at a time within this process (many share downloads may finish at once); the lock
    // file keeps other processes (the token subcommands) out.
    const result = this.#updating.then(() => this.#update(change));
    this.#updating = result.catch(() => {});
    return result;
  }

  async #update<T>(change: (tokens: TokenRecord[]) => T): Promise<T> {
    await mkdir(this.#dir, { recursive: true, mode: DIR_MODE });
    const release = await this.#lock();
    try {
      const tokens = await this.read();
      const result = change(tokens);
      await this.#write(tokens);
      return result;
    } finally {
      await release();
    }
  }

  async #write(tokens: TokenRecord[]): Promise<void> {
    const temp = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, FILE_MODE);
    try {
      await handle.writeFile(`${JSON.stringify({ format: FILE_FORMAT, tokens } satisfies TokenFileContent, null, 2)}\n`);
      // The mode given to open() is masked by the umask; the file must be the owner's only.
      await handle.chmod(FILE_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
    const dir = await open(this.#dir, constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async #lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}${LOCK_SUFFIX}`;
    const deadline = performance.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', FILE_MODE);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await this.#breakStaleLock(lockPath);
      else if (performance.now() > deadline) throw new Error(`${lockPath} is held by another process; remove it if no tor-server or token command is running`);
      else await sleep(LOCK_RETRY_MS);
    }
  }

  /**
   * Removes a lock left by a process that died. Several waiters see it stale at the same
   * moment: removing it by name would let a late one remove the lock an early one has just
   * taken. Renaming is atomic, so exactly one waiter moves the lock aside; it then checks that
   * what it moved is the stale lock and not a fresh one, and puts a fresh one back.
   */
  async #breakStaleLock(lockPath: string): Promise<void> {
    const aside = `${lockPath}.${randomUUID()}.stale`;
    try {
      await rename(lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const moved = await stat(aside);
      if (Date.now() - moved.mtimeMs <= STALE_LOCK_MS) await link(aside, lockPath).catch(() => {});
    } finally {
      await rm(aside, { force: true });
    }
  }
}
