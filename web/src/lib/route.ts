/** Which page an address opens: the file manager, or the public page of one share link. */
import { SHARE_PAGE_PREFIX } from 'gateway/api';

export type Route = { page: 'files' } | { page: 'share'; token: string };

/** The page for `pathname`: `/s/<token>` is a share link's page, everything else the file manager. */
export function routeOf(pathname: string): Route {
  if (!pathname.startsWith(SHARE_PAGE_PREFIX)) return { page: 'files' };
  const rest = pathname.slice(SHARE_PAGE_PREFIX.length);
  if (rest === '' || rest.includes('/')) return { page: 'files' };
  try {
    return { page: 'share', token: decodeURIComponent(rest) };
  } catch {
    // A malformed escape is no token we issued; the share page says the link is unknown.
    return { page: 'share', token: rest };
  }
}
