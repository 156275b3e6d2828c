import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The lock file inside the served folder: a dot name, so it is never listed or served. */
export const LOCK_FILE_NAME = '.tor-lock';

// Rounds of "look, then take or clear" before giving up on a lock that keeps changing under us.
const MAX_ATTEMPTS = 20;

// A holder on another host (another container on a shared volume) cannot be asked by pid: it
// proves it is alive by touching the lock this often. A lock from another host that is not
// touched within its heartbeat and this margin is stale.
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_MARGIN_MS = 2_000;
// How often a server starting over another host's lock looks for its heartbeat.
const HEARTBEAT_POLL_MS = 250;

/** Folders locked by this process. Its own pid in a lock file means a stale lock only when it is not one of these. */
const lockedHere = new Set<string>();

/** Another live tor-server holds the folder. */
export class FolderLockedError extends Error {
  readonly code = 'TOR_ERR_FOLDER_LOCKED';
  readonly folder: string;
  readonly pid: number;
  /** The holder's host name, when it is not this host. */
  readonly host: string | undefined;
  constructor(folder: string, pid: number, host?: string) {
    const where = host === undefined ? `pid ${pid}` : `pid ${pid} on host ${host}`;
    super(`${folder} is already served by another tor-server (${where}); stop it first or choose another --dir`);
    this.folder = folder;
    this.pid = pid;
    this.host = host;
  }
}

/** What a lock file says about its holder. */
interface Holder {
  pid: number;
  /** The holder's start time in clock ticks since boot (Linux), so a recycled pid is not taken for it. */
  started?: string;
  /** Unique per lock taken, so a lock judged stale is recognised when it is cleared. */
  token: string;
  /** The holder's host name: pids mean nothing across hosts (or containers sharing a volume). */
  host?: string;
  /** How often the holder touches the lock to show it is alive. */
  heartbeatMs?: number;
}

/**
 * An exclusive claim on a served folder, held as long as the server runs: a lock file holding
 * the pid. Node has no flock, so the file is linked into place whole (it never exists
 * half-written), and a stale one (its pid is gone, or is our own pid left by an earlier life
 * of this container) is moved aside and checked before it is cleared, so that of servers
 * starting at once over a stale lock exactly one wins.
 */
export class FolderLock {
  readonly folder: string;
  /** Unique to this hold of the lock: what the lock file names its holder by. */
  readonly token: string;
  /**
   * The token of a dead server's lock this one cleared to take the folder, if it did: that
   * server is known to have stopped, so what it held elsewhere (an S3 lease) may be taken over.
   */
  readonly replaced: string | undefined;
  readonly #lockPath: string;
  readonly #heartbeat: NodeJS.Timeout;
  #released = false;

  private constructor(folder: string, taken: { token: string; replaced: string | undefined }, heartbeatMs: number) {
    this.folder = folder;
    this.#lockPath = path.join(folder, LOCK_FILE_NAME);
    this.token = taken.token;
    this.replaced = taken.replaced;
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      fs.utimes(this.#lockPath, now, now).catch(() => {});
    }, heartbeatMs).unref();
  }

  /** Takes the lock on `folder` (an absolute, real path); throws FolderLockedError while another live server holds it. */
  static async acquire(folder: string, options: { heartbeatMs?: number } = {}): Promise<FolderLock> {
    if (lockedHere.has(folder)) throw new FolderLockedError(folder, process.pid);
    lockedHere.add(folder);
    try {
      const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
      return new FolderLock(folder, await take(folder, heartbeatMs), heartbeatMs);
    } catch (error) {
      lockedHere.delete(folder);
      throw error;
    }
  }

  /** Gives the lock up, unless it is no longer ours. Never throws. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    try {
      const current = await readLock(this.#lockPath);
      if (current.kind === 'held' && current.holder.token === this.token) await fs.rm(this.#lockPath, { force: true });
    } catch {
      // The folder is gone or unreadable: there is nothing left to release.
    } finally {
      lockedHere.delete(this.folder);
    }
  }
}

/** Takes the lock file; returns the token written in it, and that of the dead holder's lock it cleared. */
async function take(folder: string, heartbeatMs: number): Promise<{ token: string; replaced: string | undefined }> {
  const lockPath = path.join(folder, LOCK_FILE_NAME);
  const me: Holder = { pid: process.pid, started: await startTimeOf(process.pid), token: randomBytes(12).toString('hex'), host: os.hostname(), heartbeatMs };
  // Written whole under a name of its own, then hard-linked into place: a lock file is never seen empty.
  const draft = `${lockPath}.${me.token}`;
  let drafted = false;
  let replaced: string | undefined;
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await readLock(lockPath);
      if (current.kind === 'held' && (await isAlive(lockPath, current.holder, current.touchedMs))) {
        throw new FolderLockedError(folder, current.holder.pid, isOtherHost(current.holder) ? current.holder.host : undefined);
      }
      if (current.kind !== 'missing') {
        if ((await clearIfUnchanged(lockPath, current.raw, me.token)) && current.kind === 'held') replaced = current.holder.token;
        continue;
      }
      if (!drafted) {
        await fs.writeFile(draft, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o644 });
        drafted = true;
      }
      try {
        await fs.link(draft, lockPath);
        return { token: me.token, replaced };
      } catch (error) {
        // Another server linked its lock first: look again.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`could not lock ${folder}: ${LOCK_FILE_NAME} kept changing; are many servers starting on it at once?`);
  } finally {
    if (drafted) await fs.rm(draft, { force: true });
  }
}

type LockState = { kind: 'missing' } | { kind: 'held'; holder: Holder; raw: string; touchedMs: number } | { kind: 'garbage'; raw: string };

async function readLock(lockPath: string): Promise<LockState> {
  let raw: string;
  let touchedMs: number;
  try {
    const handle = await fs.open(lockPath, 'r');
    try {
      // One handle for both, so the time belongs to the very file that was read.
      raw = await handle.readFile('utf8');
      touchedMs = (await handle.stat()).mtimeMs;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  const holder = parseHolder(raw);
  return holder ? { kind: 'held', holder, raw, touchedMs } : { kind: 'garbage', raw };
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Holder>;
    // pid 0 or a negative pid would make process.kill signal a whole process group.
    if (!Number.isSafeInteger(value.pid) || value.pid! <= 0 || typeof value.token !== 'string') return undefined;
    return {
      pid: value.pid!,
      started: typeof value.started === 'string' ? value.started : undefined,
      token: value.token,
      host: typeof value.host === 'string' ? value.host : undefined,
      heartbeatMs: Number.isSafeInteger(value.heartbeatMs) && value.heartbeatMs! > 0 ? value.heartbeatMs : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock, but only the very one judged stale: it is moved aside first (only one
 * of several racing servers gets it), and if what was moved is a fresh lock another server
 * took meanwhile, it is linked back (link, unlike rename, never replaces a file). True when
 * this call removed the stale lock.
 */
async function clearIfUnchanged(lockPath: string, staleRaw: string, token: string): Promise<boolean> {
  const aside = `${lockPath}.stale-${token}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  try {
    const moved = await fs.readFile(aside, 'utf8');
    if (moved === staleRaw) return true;
    await fs.link(aside, lockPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    return false;
  } finally {
    await fs.rm(aside, { force: true });
  }
}

function isOtherHost(holder: Holder): boolean {
  return holder.host !== undefined && holder.host !== os.hostname();
}

async function isAlive(lockPath: string, holder: Holder, touchedMs: number): Promise<boolean> {
  // Another host's pid says nothing here: its heartbeat does.
  if (isOtherHost(holder)) return heartbeatSeen(lockPath, holder, touchedMs);
  // Our own pid on a lock no server of this process holds: a restarted container reuses pid 1.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.started === undefined) return true;
  const started = await startTimeOf(holder.pid);
  // A different start time means the pid was recycled by another process since the lock was taken.
  return started === undefined || started === holder.started;
}

/**
 * Watches another host's lock for one heartbeat: true when its holder touches it (alive), false
 * when the heartbeat is overdue (a server killed with its container). Waits at most one
 * heartbeat and a margin, which is what a recreated container (a new host name) pays once.
 */
async function heartbeatSeen(lockPath: string, holder: Holder, touchedMs: number): Promise<boolean> {
  // Bounded, whatever the file claims: a lock cannot make a start wait for ever.
  const heartbeatMs = Math.min(holder.heartbeatMs ?? HEARTBEAT_MS, 60_000);
  // Counted from now, not from the file's time: the other host's clock may be off from ours.
  const deadline = Date.now() + heartbeatMs + HEARTBEAT_MARGIN_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(HEARTBEAT_POLL_MS, deadline - Date.now())));
    const now = await readLock(lockPath);
    // Gone or replaced: not this holder any more; the caller looks again.
    if (now.kind !== 'held' || now.holder.token !== holder.token) return false;
    if (now.touchedMs !== touchedMs) return true;
  }
  return false;
}

/** A process's start time in clock ticks since boot, from /proc (Linux); undefined elsewhere. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may contain spaces and parentheses, so count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
