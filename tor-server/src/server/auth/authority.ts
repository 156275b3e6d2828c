import { EventEmitter } from 'node:events';
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../logger.js';
import { SignInLimit } from './sign-in-limit.js';
import { parseToken, secretMatches } from './token-format.js';
import { TokenFile, type TokenRecord } from './token-file.js';
import { unusable } from './tokens.js';

/** `auto`: required once a token (not a share) exists; `required`; `open`: tokens are optional. */
export const AUTH_MODES = ['auto', 'required', 'open'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

// How often the token file is checked for changes made by the `token` subcommands.
const POLL_MS = 1000;

/** Why a signed-in session may run no more commands. */
export type SessionProblem = 'revoked' | 'expired' | 'used up';

/** The outcome of `auth <token>`. */
export type SignInResult = { record: TokenRecord } | { refused: 'invalid' | 'expired' | 'used up' };

interface AuthorityEvents {
  /** Tokens that were in the file and are no longer. */
  revoked: [ids: ReadonlySet<string>];
}

/** The server's view of its tokens: loaded from the state folder, kept current, and checked here only. */
export class Authority extends EventEmitter<AuthorityEvents> {
  readonly file: TokenFile;
  readonly mode: AuthMode;
  readonly signIns = new SignInLimit();
  readonly #logger: Logger;
  #records = new Map<string, TokenRecord>();
  /** Downloads under way per share link, so parallel ones cannot pass its maximum together. */
  readonly #shareDownloads = new Map<string, number>();
  /** Bytes ranges of each share link have served since its last whole copy (see addShareRangeBytes). */
  readonly #shareRangeBytes = new Map<string, number>();
  /** Whether a token that is no share link exists: asked at every command of a connection not signed in. */
  #hasTokens = false;
  #reloading: Promise<void> = Promise.resolve();
  readonly #onFileChange = () => void this.reload();

  private constructor(stateDir: string, mode: AuthMode, logger: Logger) {
    super();
    this.file = new TokenFile(stateDir);
    this.mode = mode;
    this.#logger = logger;
  }

  /** Loads the tokens of `stateDir` and follows the file's changes from then on. */
  static async start(stateDir: string, mode: AuthMode, logger: Logger): Promise<Authority> {
    const authority = new Authority(stateDir, mode, logger);
    // Unlike a later change, an unreadable file at the start stops it: starting with no tokens would open the server.
    authority.#use(await authority.file.read());
    watchFile(authority.file.path, { interval: POLL_MS, persistent: false }, authority.#onFileChange);
    return authority;
  }

  /** Whether a connection must sign in before any other command. */
  get required(): boolean {
    return this.mode === 'required' || (this.mode === 'auto' && this.#hasTokens);
  }

  /** The tokens as last read. */
  get records(): TokenRecord[] {
    return [...this.#records.values()];
  }

  /**
   * Checks a token's text: its record, or why it is refused. The secret is compared in constant
   * time. An id not known yet is looked for in the file once more, so a token made by the
   * subcommand a moment ago works before the next poll.
   */
  async signIn(text: string): Promise<SignInResult> {
    const parts = parseToken(text);
    if (!parts) return { refused: 'invalid' };
    if (!this.#records.has(parts.id)) await this.reload();
    const record = this.#records.get(parts.id);
    if (!record || !secretMatches(parts.secret, record.hash)) return { refused: 'invalid' };
    const problem = unusable(record);
    return problem ? { refused: problem } : { record };
  }

  /** Why the session of token `id` may run no more commands, or undefined when it may. */
  sessionProblem(id: string): SessionProblem | undefined {
    const record = this.#records.get(id);
    return record ? unusable(record) : 'revoked';
  }

  /**
   * Holds one of share `id`'s downloads for a download about to start; undefined when the
   * completed ones and those under way already reach its maximum. Call the returned function when it ends.
   */
  holdShareDownload(id: string): (() => void) | undefined {
    const record = this.#records.get(id);
    const running = this.#shareDownloads.get(id) ?? 0;
    if (!record || (record.maxDownloads !== null && record.downloads + running >= record.maxDownloads)) return undefined;
    this.#shareDownloads.set(id, running + 1);
    return () => {
      const left = (this.#shareDownloads.get(id) ?? 1) - 1;
      if (left > 0) this.#shareDownloads.set(id, left);
      else this.#shareDownloads.delete(id);
    };
  }

  /**
   * Adds `bytes` served by ranges to share `id`: ranges are how a video player reads, so they do
   * not count one by one, but each time their bytes add up to the file's `size` that is one
   * whole copy, counted as a download. Returns true when this call completed such a copy.
   */
  addShareRangeBytes(id: string, bytes: number, size: number): boolean {
    const total = (this.#shareRangeBytes.get(id) ?? 0) + bytes;
    if (size > 0 && total >= size) {
      this.#shareRangeBytes.set(id, total - size);
      return true;
    }
    this.#shareRangeBytes.set(id, total);
    return false;
  }

  /** The current record of token `id`. */
  record(id: string): TokenRecord | undefined {
    return this.#records.get(id);
  }

  /** Re-reads the file (after a change made here, or noticed by the poll); tokens gone are announced. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      let records: TokenRecord[];
      try {
        records = await this.file.read();
      } catch (error) {
        // A half-edited file keeps the last good tokens rather than opening the server.
        this.#logger.error('token-file-unreadable', { file: this.file.path, error: (error as Error).message });
        return;
      }
      const before = this.#records;
      this.#use(records);
      const gone = new Set([...before.keys()].filter((id) => !this.#records.has(id)));
      if (gone.size > 0) this.emit('revoked', gone);
    });
    return this.#reloading;
  }

  #use(records: TokenRecord[]): void {
    this.#records = new Map(records.map((r) => [r.id, r]));
    this.#hasTokens = records.some((r) => r.kind === 'token');
  }

  /** Stops following the file. */
  close(): void {
    unwatchFile(this.file.path, this.#onFileChange);
  }
}
