// An IPv4 client of a dual-stack (`::`) listener shows up as `::ffff:1.2.3.4`.
const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address a client connects from, an IPv4-mapped IPv6 address written as the IPv4 address it is. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return '?';
  return IPV4_MAPPED.exec(remoteAddress)?.[1] ?? remoteAddress;
}
