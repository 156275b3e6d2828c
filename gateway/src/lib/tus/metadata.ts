import { TUS_NAME_KEYS } from '../../api/index.js';
import { GatewayError } from '../../errors.js';

// A key is ASCII without spaces or commas; a value is base64 (tus 1.0.0, Upload-Metadata).
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const PAIR = /^([!-+\--~]+)(?: ([A-Za-z0-9+/]*={0,2}))?$/;

/** Parses `Upload-Metadata` (`key base64,key base64,...`) into decoded UTF-8 values; 400 when malformed. */
export function parseMetadata(header: string | undefined): Map<string, string> {
  const metadata = new Map<string, string>();
  if (header === undefined || header.trim() === '') return metadata;
  for (const pair of header.split(',')) {
    const match = PAIR.exec(pair.trim());
    if (!match) throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Metadata is malformed near "${pair.trim().slice(0, 40)}": send key and base64 value pairs separated by commas`);
    const [, key, value] = match;
    if (metadata.has(key!)) throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Metadata has the key "${key}" twice`);
    let text: string;
    try {
      text = UTF8.decode(Buffer.from(value ?? '', 'base64'));
    } catch {
      throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Metadata's "${key}" is not base64 of UTF-8 text`);
    }
    metadata.set(key!, text);
  }
  return metadata;
}

/** The file name an upload's metadata carries (`filename`, else `name`); 400 when it has none. */
export function metadataFileName(metadata: Map<string, string>): string {
  for (const key of TUS_NAME_KEYS) {
    const name = metadata.get(key);
    if (name !== undefined) return name;
  }
  throw new GatewayError('GW_ERR_BAD_REQUEST', `Upload-Metadata must carry the file name as "${TUS_NAME_KEYS[0]}" (base64 of its UTF-8)`);
}

/**
 * `Upload-Metadata` for a HEAD answer: the name under the key the tus clients use. It is all
 * HEAD echoes of the creation's metadata (filetype and the rest are not): the tor-server keeps
 * an upload's name and nothing else, and the gateway keeps nothing.
 */
export function formatNameMetadata(name: string): string {
  return `${TUS_NAME_KEYS[0]} ${Buffer.from(name, 'utf8').toString('base64')}`;
}
