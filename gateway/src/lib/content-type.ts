import path from 'node:path';

/** What a file with no known extension is served as: browsers download it and never render it. */
export const FALLBACK_TYPE = 'application/octet-stream';

// Common types by extension. Text types get a charset when served.
const TYPES: Record<string, string> = {
  // text and data
  txt: 'text/plain', text: 'text/plain', log: 'text/plain', md: 'text/markdown', markdown: 'text/markdown',
  csv: 'text/csv', tsv: 'text/tab-separated-values', json: 'application/json', yaml: 'text/yaml', yml: 'text/yaml',
  ini: 'text/plain', conf: 'text/plain', ts: 'text/plain', py: 'text/plain', c: 'text/plain', h: 'text/plain',
  rs: 'text/plain', go: 'text/plain', java: 'text/plain', sh: 'text/plain', srt: 'text/plain', vtt: 'text/vtt',
  // active content: never inline (see isInlineSafe)
  html: 'text/html', htm: 'text/html', xhtml: 'application/xhtml+xml', xml: 'application/xml', xsl: 'application/xml',
  svg: 'image/svg+xml', svgz: 'image/svg+xml', js: 'text/javascript', mjs: 'text/javascript', css: 'text/css',
  swf: 'application/x-shockwave-flash', wasm: 'application/wasm',
  // images
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif',
  bmp: 'image/bmp', ico: 'image/x-icon', tif: 'image/tiff', tiff: 'image/tiff', heic: 'image/heic',
  // audio and video
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', wav: 'audio/wav', flac: 'audio/flac', ogg: 'audio/ogg',
  oga: 'audio/ogg', opus: 'audio/ogg', mp4: 'video/mp4', m4v: 'video/mp4', webm: 'video/webm', ogv: 'video/ogg',
  mov: 'video/quicktime', mkv: 'video/x-matroska', avi: 'video/x-msvideo',
  // documents and archives
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip', tar: 'application/x-tar',
  bz2: 'application/x-bzip2', xz: 'application/x-xz', '7z': 'application/x-7z-compressed', rar: 'application/vnd.rar',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', epub: 'application/epub+zip', iso: 'application/x-iso9660-image',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf',
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
  const extension = path.extname(name).slice(1).toLowerCase();
  return TYPES[extension] ?? FALLBACK_TYPE;
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
  return /html|xml|javascript|ecmascript|css|wasm|shockwave/.test(type);
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
