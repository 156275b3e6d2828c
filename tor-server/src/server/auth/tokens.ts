import type { ShareInfo } from '../../protocol/auth.js';
import type { AccessLevel } from '../../protocol/constants.js';
import { newSecret, newTokenId } from './token-format.js';
import type { TokenFile, TokenRecord } from './token-file.js';

/** Labels are one word, so `token revoke <label>` and log lines need no quoting. */
const LABEL_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;
export const LABEL_RULE = 'a label is 1 to 64 letters, digits, dots, dashes, underscores or @';

/** A request the `token` or `share` operations cannot carry out; the message is for the user as it is. */
export class TokenError extends Error {
  readonly code = 'TOR_ERR_TOKEN';
}

/** What `token add` and `share` are given. */
export interface NewToken {
  label: string;
  access: AccessLevel;
  /** Milliseconds from now, or undefined for never. */
  expiresInMs?: number;
  only?: string;
  kind?: 'token' | 'share';
  maxDownloads?: number;
  createdBy?: string;
}

/** Adds a token to the file; resolves with its record and the token text, which exists nowhere else. */
export async function addToken(file: TokenFile, request: NewToken, now = new Date()): Promise<{ record: TokenRecord; token: string }> {
  const kind = request.kind ?? 'token';
  if (kind === 'token' && !LABEL_PATTERN.test(request.label)) throw new TokenError(`"${request.label}" is not a valid label: ${LABEL_RULE}`);
  return file.update((tokens) => {
    if (kind === 'token' && tokens.some((t) => t.kind === 'token' && t.label === request.label)) {
      throw new TokenError(`a token labelled ${request.label} exists already; revoke it first or choose another label`);
    }
    let id = newTokenId();
    while (tokens.some((t) => t.id === id)) id = newTokenId();
    const { token, hash } = newSecret(id);
    const record: TokenRecord = {
      id,
      label: request.label,
      access: request.access,
      hash,
      created: now.toISOString(),
      expires: request.expiresInMs === undefined ? null : new Date(now.getTime() + request.expiresInMs).toISOString(),
      only: request.only ?? null,
      kind,
      maxDownloads: request.maxDownloads ?? null,
      downloads: 0,
      createdBy: request.createdBy ?? null,
    };
    tokens.push(record);
    return { record, token };
  });
}

/**
 * Removes the tokens whose id or label is `which` (a label names a token, never a share; `kind`
 * limits the search further); `allowed` may refuse one. Resolves with the records removed.
 */
export async function revokeTokens(file: TokenFile, which: string, options: { kind?: 'token' | 'share'; allowed?: (record: TokenRecord) => boolean } = {}): Promise<TokenRecord[]> {
  return file.update((tokens) => {
    const matches = tokens.filter((t) => (t.id === which || (t.kind === 'token' && t.label === which)) && (options.kind === undefined || t.kind === options.kind));
    if (matches.length === 0) throw new TokenError(`no ${options.kind ?? 'token'} with the id or label ${which}`);
    if (options.allowed && !matches.every(options.allowed)) throw new TokenError(`${which} was made by someone else; only its creator or an admin may revoke it`);
    // A user's share links go with them: a revoked token must not leave links that still read its files.
    const made = new Set(matches.filter((t) => t.kind === 'token').map((t) => t.id));
    const gone = [...matches, ...tokens.filter((t) => t.kind === 'share' && t.createdBy !== null && made.has(t.createdBy) && !matches.includes(t))];
    for (const record of gone) tokens.splice(tokens.indexOf(record), 1);
    return gone;
  });
}

/** Counts one completed download of a share; resolves false when the share is gone. */
export async function countShareDownload(file: TokenFile, id: string): Promise<boolean> {
  return file.update((tokens) => {
    const record = tokens.find((t) => t.id === id);
    if (record) record.downloads++;
    return record !== undefined;
  });
}

/** Why a record no longer signs in, or undefined when it does. */
export function unusable(record: TokenRecord, now = Date.now()): 'expired' | 'used up' | undefined {
  if (record.expires !== null && Date.parse(record.expires) <= now) return 'expired';
  if (record.maxDownloads !== null && record.downloads >= record.maxDownloads) return 'used up';
  return undefined;
}

/** What `shares` and the console show of a share record. */
export function shareInfo(record: TokenRecord): ShareInfo {
  return { id: record.id, name: record.only ?? '', expires: record.expires, downloads: record.downloads, maxDownloads: record.maxDownloads };
}
