/**
 * Splits a command's arguments into words: spaces separate, "double" or 'single' quotes keep
 * spaces inside one word, and inside double quotes a backslash escapes `"` or `\`. Undefined
 * for an unbalanced quote.
 */
export function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (quote === '"' && c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The one name (or text) a command takes: a quoted argument is unquoted, anything else is
 * taken verbatim, so `download my file.txt` and `download "my file.txt"` name the same file.
 * Undefined when a quoted argument is not exactly one word.
 */
export function singleArgument(argument: string): string | undefined {
  if (!argument.startsWith('"') && !argument.startsWith("'")) return argument;
  const words = splitWords(argument);
  return words?.length === 1 ? words[0] : undefined;
}

/** Quotes a word for splitWords when it needs it (spaces, quotes, backslashes, or empty). */
export function quoteWord(word: string): string {
  return word === '' || /[\s"'\\]/.test(word) ? `"${word.replace(/["\\]/g, '\\$&')}"` : word;
}
