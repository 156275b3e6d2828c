/** What kind of file a name is, for its icon and for how (or whether) it can be previewed. */

export type FileKind =
  | 'image'
  | 'video'
  | 'audio'
  | 'pdf'
  | 'text'
  | 'code'
  | 'archive'
  | 'document'
  | 'spreadsheet'
  | 'other';

/** How the preview dialog shows a file; `none` offers the download instead. */
export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'none';

const KIND_BY_EXTENSION: Record<string, FileKind> = {};

function register(kind: FileKind, extensions: string): void {
  for (const extension of extensions.split(' ')) KIND_BY_EXTENSION[extension] = kind;
}

// SVG is a document that can run script: the gateway serves it as text, so it previews as source.
register('image', 'png jpg jpeg gif webp avif bmp ico');
// Only containers Chromium, Firefox and Safari play natively; others get the download.
register('video', 'mp4 m4v webm ogv mov');
register('audio', 'mp3 wav ogg oga opus m4a aac flac weba');
register('pdf', 'pdf');
register('text', 'txt md markdown log csv tsv ini conf cfg env');
register(
  'code',
  'json yaml yml toml xml svg html htm css js mjs cjs ts tsx jsx svelte vue py rb go rs c h cpp hpp java kt swift sh bash zsh sql php pl lua r',
);
register('archive', 'zip tar gz tgz bz2 xz zst 7z rar iso dmg');
register('document', 'doc docx odt rtf pages epub key ppt pptx odp');
register('spreadsheet', 'xls xlsx ods numbers');

/** The lower-cased extension of a name without the dot, or '' (a leading dot is not an extension). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : '';
}

/** The kind of file a name denotes, judged by its extension. */
export function fileKind(name: string): FileKind {
  return KIND_BY_EXTENSION[extensionOf(name)] ?? 'other';
}

/** How a file can be previewed in the page. */
export function previewKind(name: string): PreviewKind {
  const kind = fileKind(name);
  switch (kind) {
    case 'image':
    case 'video':
    case 'audio':
    case 'pdf':
    case 'text':
      return kind;
    case 'code':
      return 'text';
    default:
      return 'none';
  }
}
