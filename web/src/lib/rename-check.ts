import type { NameLookup } from './name-check.js';

/** What to do with a name typed into the inline rename: nothing, refuse with a message, or send it. */
export type RenameVerdict = { verdict: 'unchanged' } | { verdict: 'refused'; message: string } | { verdict: 'send'; name: string };

/**
 * The checks an upload's name gets, for a rename: a name the page lists or the server has is
 * refused before anything is sent (the server would refuse it too: it never overwrites). The
 * server remains the authority on everything else (its name rules, its access level).
 */
export async function checkRename(from: string, to: string, listed: ReadonlySet<string>, lookup: NameLookup): Promise<RenameVerdict> {
  if (to === from) return { verdict: 'unchanged' };
  if (to.trim() === '') return { verdict: 'refused', message: 'Type the new name, or press Escape to keep the old one' };
  if (listed.has(to) || (await lookup(to)) === 'taken') {
    return { verdict: 'refused', message: `“${to}” is already on the server; choose another name` };
  }
  return { verdict: 'send', name: to };
}
