/** The share dialog's choices and checks, turned into the `ShareRequest` the gateway takes. */
import { shareRequestSchema, type ShareEntry, type ShareRequest } from 'gateway/api';
import { formatExactTime } from './format.js';

/** The expiry choices offered, as the contract's duration strings ('' is never). */
export const EXPIRY_CHOICES: ReadonlyArray<{ value: string; label: string }> = [
  { value: '', label: 'Never' },
  { value: '1h', label: '1 hour' },
  { value: '1d', label: '1 day' },
  { value: '7d', label: '7 days' },
  { value: '30d', label: '30 days' },
];

/** The expiry the dialog starts with. */
export const DEFAULT_EXPIRY = '7d';

/** A duration the gateway accepts (`90m`, `12h`, `7d`), from the contract's own schema. */
const DURATION = new RegExp(shareRequestSchema.properties.expires.pattern);
const WHOLE_NUMBER = /^\d+$/;

export const MAX_DOWNLOADS_PROBLEM = 'Maximum downloads must be a whole number of at least 1 (or empty for no limit)';
export const EXPIRY_PROBLEM = 'Expiry must be a duration such as 90m, 12h or 7d (or never)';

/** The request for sharing `name`, or the reason the form cannot be sent as filled in. */
export function shareRequest(name: string, expiry: string, maxDownloads: string): { request: ShareRequest } | { problem: string } {
  const request: ShareRequest = { name };
  if (expiry !== '') {
    if (!DURATION.test(expiry)) return { problem: EXPIRY_PROBLEM };
    request.expires = expiry;
  }
  const count = maxDownloads.trim();
  if (count !== '') {
    const value = Number(count);
    if (!WHOLE_NUMBER.test(count) || value < 1 || !Number.isSafeInteger(value)) return { problem: MAX_DOWNLOADS_PROBLEM };
    request.maxDownloads = value;
  }
  return { request };
}

/** The full link to hand out: the page's origin and the path the gateway answered. */
export function shareUrl(origin: string, path: string): string {
  return `${origin}${path}`;
}

/** `2 of 5 downloads`, `1 download`: how much of a link is used. */
export function describeDownloads({ downloads, maxDownloads }: Pick<ShareEntry, 'downloads' | 'maxDownloads'>): string {
  if (maxDownloads !== null) return `${downloads} of ${maxDownloads} downloads`;
  return `${downloads} ${downloads === 1 ? 'download' : 'downloads'}`;
}

/** `never expires`, `expired`, or `expires <time>` in the reader's locale. */
export function describeExpiry({ expires }: Pick<ShareEntry, 'expires'>, now: number = Date.now()): string {
  if (expires === null) return 'never expires';
  const time = Date.parse(expires);
  if (Number.isNaN(time)) return `expires ${expires}`;
  return time <= now ? 'expired' : `expires ${formatExactTime(expires)}`;
}
