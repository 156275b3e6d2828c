/** One run of a name: part of the search match or not. */
export interface TextPart {
  text: string;
  match: boolean;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits a name into runs, marking every case-insensitive occurrence of `query`. */
export function highlightParts(name: string, query: string): TextPart[] {
  if (query === '') return [{ text: name, match: false }];
  const parts: TextPart[] = [];
  const pattern = new RegExp(escapeRegExp(query), 'giu');
  let last = 0;
  for (const found of name.matchAll(pattern)) {
    const start = found.index;
    if (start > last) parts.push({ text: name.slice(last, start), match: false });
    parts.push({ text: found[0], match: true });
    last = start + found[0].length;
  }
  if (last < name.length) parts.push({ text: name.slice(last), match: false });
  return parts;
}
