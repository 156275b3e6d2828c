/**
 * Row selection by name. Only rows on screen count: a selected file that a search hides, or
 * that another client deletes, is no longer selected, so an action on "the selection" only
 * ever touches rows the user can see.
 */

/** How many of the listed rows are selected, as the "select all" checkbox shows it. */
export type SelectionExtent = 'none' | 'some' | 'all';

/** The selected names among `listed`, in list order. */
export function selectedAmong(selected: ReadonlySet<string>, listed: readonly string[]): string[] {
  return listed.filter((name) => selected.has(name));
}

/** The selection with `name` flipped; names no longer listed are dropped. */
export function toggleName(selected: ReadonlySet<string>, listed: readonly string[], name: string): Set<string> {
  const next = new Set(selectedAmong(selected, listed));
  if (next.has(name)) next.delete(name);
  else if (listed.includes(name)) next.add(name);
  return next;
}

/** Every listed row selected, or none when all already were (the header checkbox). */
export function toggleAll(selected: ReadonlySet<string>, listed: readonly string[]): Set<string> {
  return extentOf(selected, listed) === 'all' ? new Set() : new Set(listed);
}

/** Whether none, some or all of the listed rows are selected. */
export function extentOf(selected: ReadonlySet<string>, listed: readonly string[]): SelectionExtent {
  const count = selectedAmong(selected, listed).length;
  if (count === 0) return 'none';
  return count === listed.length ? 'all' : 'some';
}
