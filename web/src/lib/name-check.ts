import { HttpStatus } from 'gateway/api';
import { alternativeName, fileUrl } from './file-names.js';

/** What the server says about a name: a file has it, none has, or it could not be asked. */
export type NameStatus = 'taken' | 'free' | 'unknown';

/** Asks the server about one name. */
export type NameLookup = (name: string) => Promise<NameStatus>;

/** Candidates tried before offering one unchecked (each costs a round trip). */
export const MAX_NAME_TRIES = 20;
/** A check that takes longer than this is unknown: a slow gateway must not hold uploads back for good. */
export const NAME_CHECK_TIMEOUT_MS = 10_000;

/**
 * A lookup through the gateway, the path to the authority: `HEAD /api/files/<name>` is 200
 * when the file exists and 404 when it does not; anything else (the tor-server is down, a
 * network error) is unknown, and the upload itself will get the final word. `base` is for
 * tests outside a page.
 */
export function headLookup(fetchFn: typeof fetch = fetch, base = ''): NameLookup {
  return async (name) => {
    try {
      const response = await fetchFn(`${base}${fileUrl(name)}`, { method: 'HEAD', cache: 'no-store', signal: AbortSignal.timeout(NAME_CHECK_TIMEOUT_MS) });
      if (response.status === HttpStatus.OK) return 'taken';
      if (response.status === HttpStatus.NOT_FOUND) return 'free';
      return 'unknown';
    } catch {
      return 'unknown';
    }
  };
}

/**
 * The first of `name (1).ext`, `name (2).ext`, ... that is not in `known` and that the server
 * does not have. A candidate the server cannot be asked about is offered as it is; after
 * MAX_NAME_TRIES taken ones, the next is offered unchecked (the upload would still be refused
 * rather than overwrite anything).
 */
export async function nextFreeName(name: string, known: ReadonlySet<string>, lookup: NameLookup): Promise<string> {
  const taken = new Set(known);
  taken.add(name);
  for (let tries = 0; ; tries += 1) {
    const candidate = alternativeName(name, taken);
    if (tries >= MAX_NAME_TRIES || (await lookup(candidate)) !== 'taken') return candidate;
    taken.add(candidate);
  }
}
