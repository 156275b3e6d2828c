import path from 'node:path';
import mime from 'mime-types';

/** What a file with no known extension is served as: browsers download it and never render it. */
export const FALLBACK_TYPE = 'application/octet-stream';

/**
 * The project's own choices where mime-types (mime-db) answers otherwise or not at all:
 * source code is plain text (mime-db has `.ts` as an MPEG transport stream, `.rs` as an XML
 * type and nothing for `.py` or `.go`), media keep the names browsers play them under, and
 * JavaScript is `text/javascript` (RFC 9239). Everything else comes from mime-types.
 */
const OVERRIDES: Record<string, string> = {
  ts: 'text/plain', py: 'text/plain', c: 'text/plain', h: 'text/plain', rs: 'text/plain', go: 'text/plain',
  java: 'text/plain', sh: 'text/plain', srt: 'text/plain', log: 'text/plain', ini: 'text/plain', conf: 'text/plain',
  js: 'text/javascript', mjs: 'text/javascript',
  tgz: 'application/gzip', m4v: 'video/mp4', aac: 'audio/aac', wav: 'audio/wav', flac: 'audio/flac', ico: 'image/x-icon',
};

/**
 * Types a browser shows without running anything in the page's origin: plain text, raster
 * images, audio, video, and PDF (whose viewer is sandboxed away from the origin). Everything
 * else, in particular HTML, SVG and XML, is only ever served as an attachment.
 */
const INLINE_SAFE = new Set([
  'text/plain', 'text/markdown', 'text/csv', 'text/tab-separated-values', 'text/yaml', 'text/vtt', 'application/json',
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/x-icon',
  'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/wav', 'audio/flac', 'audio/ogg',
  'video/mp4', 'video/webm', 'video/ogg', 'video/quicktime', 'video/x-matroska',
  'application/pdf',
]);

/** The MIME type for a file name, by its extension (case-insensitive). */
export function contentTypeFor(name: string): string {
  // By the name's own extension: a dot file such as `.txt` has none.
  const extension = path.extname(name).slice(1).toLowerCase();
  if (extension === '') return FALLBACK_TYPE;
  return OVERRIDES[extension] ?? (mime.lookup(extension) || FALLBACK_TYPE);
}

/** The Content-Type header value: text types say they are UTF-8. */
export function contentTypeHeader(type: string): string {
  return type.startsWith('text/') || type === 'application/json' ? `${type}; charset=utf-8` : type;
}

/** True when a file of this type may be displayed inline in the gateway's origin. */
export function isInlineSafe(type: string): boolean {
  return INLINE_SAFE.has(type);
}

/** Of the active types, those that are readable source text: a preview shows them as plain text. */
const TEXT_SOURCES = new Set(['text/html', 'application/xhtml+xml', 'application/xml', 'image/svg+xml', 'text/javascript', 'text/css']);

/**
 * True for a type a browser would run or render as a document of the gateway's origin if it
 * were served as such: scripts, markup, style sheets, WebAssembly, plug-in content.
 */
export function isActiveType(type: string): boolean {
  // mime-db knows far more types than a browser renders; the ones it may render as a document
  // (MHTML archives, multipart, IE's HTML components) count as active too.
  return /html|xml|javascript|ecmascript|css|wasm|shockwave|x-component|^message\/|^multipart\//.test(type);
}

/** What a user file is served as: a served file must never be a script, a style sheet or a document of the app's origin. */
export interface ServedType {
  /** The Content-Type header. */
  header: string;
  /** True when the browser may show it inline (in a preview) rather than download it. */
  inline: boolean;
}

/**
 * The Content-Type a file named `name` is served with. Passive types keep their own type;
 * active ones (HTML, SVG, XML, JavaScript, CSS, wasm...) become `application/octet-stream`,
 * or `text/plain; charset=utf-8` for an inline preview of a text source. With `nosniff`, the
 * browser then neither renders nor runs them, even from a `<script src>` of the app's origin.
 */
export function servedType(name: string, inline: boolean): ServedType {
  const type = contentTypeFor(name);
  if (!isActiveType(type)) return { header: contentTypeHeader(type), inline: inline && isInlineSafe(type) };
  if (inline && TEXT_SOURCES.has(type)) return { header: 'text/plain; charset=utf-8', inline: true };
  return { header: FALLBACK_TYPE, inline: false };
}
