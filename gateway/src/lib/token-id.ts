/** `tft_<id>_<secret>`: the public id of a token (docs/PROTOCOL.md, Access control). */
const TOKEN_SHAPE = /^tft_([0-9a-f]{8})_/;

/** The id of a token the tor-server made (a share link's, as `shares` lists it). */
export function tokenId(token: string): string {
  const id = TOKEN_SHAPE.exec(token)?.[1];
  if (id === undefined) throw new Error(`the tor-server answered share with a token of an unknown shape`);
  return id;
}
