import { parseArgs } from 'node:util';
import { ACCESS_LEVELS, parseAccessLevel } from '../../protocol/constants.js';
import { DURATION_HELP, parseDuration } from '../../protocol/duration.js';
import { formatShareRow } from '../../protocol/auth.js';
import { toFileName } from '../store/store.js';
import type { TokenFile, TokenRecord } from './token-file.js';
import { TokenError, addToken, revokeTokens, shareInfo } from './tokens.js';

/** The usage of the token and share administration, for the bin and the console alike. */
export const TOKEN_USAGE = `  token add LABEL --access read|write|admin [--expires 30d] [--only NAME]
                     make a token (printed once); --expires takes ${DURATION_HELP}
  token list         the tokens: id, label, access, expiry, file limit (never a secret)
  token revoke LABEL-OR-ID
                     revoke a token; its idle sessions are closed, its next command refused
  share list         the share links: id, file, expiry, downloads/max
  share revoke ID    revoke a share link`;

/** What an administration command printed, and whether it succeeded. */
export interface AdminOutcome {
  ok: boolean;
  text: string;
}

/** Runs `token add|list|revoke ...` or `share list|revoke ...` (words after the program name) on a token file. */
export async function runTokenAdmin(file: TokenFile, words: readonly string[], now = new Date()): Promise<AdminOutcome> {
  const [group, action, ...rest] = words;
  try {
    if (group === 'token' && action === 'add') return await add(file, rest, now);
    if (group === 'token' && action === 'list' && rest.length === 0) return { ok: true, text: listTokens(file, (await file.read()).filter((r) => r.kind === 'token'), now) };
    if (group === 'share' && action === 'list' && rest.length === 0) return { ok: true, text: listShares((await file.read()).filter((r) => r.kind === 'share')) };
    if ((group === 'token' || group === 'share') && action === 'revoke' && rest.length === 1) {
      const gone = await revokeTokens(file, rest[0]!, { kind: group });
      return { ok: true, text: gone.map((r) => `Revoked ${r.kind === 'share' ? 'share link' : 'token'} ${r.id} (${r.label})`).join('\n') };
    }
  } catch (error) {
    if (error instanceof TokenError) return { ok: false, text: `Could not ${action ?? ''} ${group ?? ''}: ${error.message}` };
    throw error;
  }
  return { ok: false, text: `Usage:\n${TOKEN_USAGE}` };
}

async function add(file: TokenFile, args: string[], now: Date): Promise<AdminOutcome> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { access: { type: 'string' }, expires: { type: 'string' }, only: { type: 'string' } } });
  } catch (error) {
    return { ok: false, text: `${(error as Error).message}\nUsage:\n${TOKEN_USAGE}` };
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) return { ok: false, text: `token add takes one LABEL\nUsage:\n${TOKEN_USAGE}` };
  const access = values.access === undefined ? undefined : parseAccessLevel(values.access);
  if (!access) return { ok: false, text: `token add needs --access ${ACCESS_LEVELS.join('|')}` };
  const expiresInMs = values.expires === undefined ? undefined : parseDuration(values.expires);
  if (values.expires !== undefined && expiresInMs === undefined) return { ok: false, text: `--expires "${values.expires}" is not ${DURATION_HELP}` };
  if (values.only !== undefined) {
    const checked = toFileName(values.only);
    if (checked.problem !== undefined) return { ok: false, text: `--only "${values.only}": ${checked.problem}` };
  }
  const { record, token } = await addToken(file, { label: positionals[0]!, access, expiresInMs, only: values.only }, now);
  const limits = [record.access, `expires ${record.expires ?? 'never'}`, ...(record.only ? [`only ${record.only}`] : [])].join(', ');
  return { ok: true, text: `Token ${record.id} for ${record.label} (${limits}):\n${token}\nThis token will not be shown again: copy it now.` };
}

function listTokens(file: TokenFile, records: TokenRecord[], now: Date): string {
  if (records.length === 0) return `No tokens in ${file.path}: a tor-server with this --state-dir runs in open mode unless --auth required.`;
  const rows = records.map((r) => [r.id, r.label, r.access, expiry(r, now), r.only ?? '-']);
  return table([['ID', 'LABEL', 'ACCESS', 'EXPIRES', 'ONLY'], ...rows]);
}

function listShares(records: TokenRecord[]): string {
  if (records.length === 0) return 'No share links.';
  return records.map((r) => formatShareRow(shareInfo(r))).join('\n');
}

function expiry(record: TokenRecord, now: Date): string {
  if (record.expires === null) return 'never';
  return Date.parse(record.expires) <= now.getTime() ? `${record.expires} (expired)` : record.expires;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
