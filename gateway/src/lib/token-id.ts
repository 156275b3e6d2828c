/** `tft_<id>_<secret>`: the public id of a token (docs/PROTOCOL.md, Access control). */
const TOKEN_SHAPE = /^tft_([0-9a-f]{8})_/;
/** A whole token as the tor-server makes them: 8 hex digits of id, 43 base64url characters of secret. */
const WHOLE_TOKEN = /^tft_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/;

/** The id of a token the tor-server made (a share link's, as `shares` lists it). */
export function tokenId(token: string): string {
  const id = TOKEN_SHAPE.exec(token)?.[1];
  if (id === undefined) throw new Error(`the tor-server answered share with a token of an unknown shape`);
  return id;
}

/** True when `token` has the shape of a token the tor-server makes (anything else it refuses unlooked). */
export function isTokenShaped(token: string): boolean {
  return WHOLE_TOKEN.test(token);
}

/** `text` with every token in it cut down to its public id (`tft_<id>_…`), for logs. */
export function redactTokens(text: string): string {
  return text.replace(/tft_([0-9a-f]{8})_[^/?#&\s"]*/g, 'tft_$1_…');
}
