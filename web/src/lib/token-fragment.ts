/**
 * `#token=<token>` links: the token is taken out of the address at once, so it is neither kept
 * in the history, nor bookmarked, nor seen by anything that later reads `location`.
 */
import { TOKEN_FRAGMENT } from 'gateway/api';

/** The parts of `window.location` and `window.history` this needs (fakes in tests). */
export interface AddressBar {
  location: { pathname: string; search: string; hash: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url: string): void };
}

/**
 * Removes `token=...` from the address's fragment (keeping any other fragment fields) and
 * returns the token; null when the address carries none. An empty `#token=` is removed too.
 */
export function takeTokenFragment({ location, history }: AddressBar): string | null {
  const fields = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (!fields.has(TOKEN_FRAGMENT)) return null;
  const token = fields.get(TOKEN_FRAGMENT)!.trim();
  fields.delete(TOKEN_FRAGMENT);
  const rest = fields.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  return token === '' ? null : token;
}
