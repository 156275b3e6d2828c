import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token starts with this, so a leaked one is easy to recognise (and to grep for). */
export const TOKEN_PREFIX = 'tft';
// 4 random bytes as hex: short enough to type in `token revoke`, unique enough for any token file.
const ID_BYTES = 4;
// 256 bits of secret, as base64url.
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^tft_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

/** A token as the client shows it, split into the public id and the secret only its holder knows. */
export interface TokenParts {
  id: string;
  secret: string;
}

/** A fresh random id (the public half of a token). */
export function newTokenId(): string {
  return randomBytes(ID_BYTES).toString('hex');
}

/** A fresh secret for `id`: the token text to give out once, and the hash to keep. */
export function newSecret(id: string): { token: string; hash: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${TOKEN_PREFIX}_${id}_${secret}`, hash: hashSecret(secret) };
}

/** The id and secret of a token text, or undefined when it has not the shape of one. */
export function parseToken(text: string): TokenParts | undefined {
  const match = TOKEN_PATTERN.exec(text);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** sha256 of a secret, hex: enough for 256 random bits, where a slow password hash buys nothing. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` hashes to `hash`, in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  const actual = createHash('sha256').update(secret).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
