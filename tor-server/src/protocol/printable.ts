// Everything a terminal may act on rather than show: C0, DEL, C1, bidirectional controls, lone surrogates.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\p{Cs}/gu;

/**
 * Makes text from a client, a server or the disk safe to print to a terminal: each control
 * character becomes a visible escape (`\x1b`, `\u202e`), so a name cannot move the cursor,
 * recolour the screen or reverse the text around it.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
