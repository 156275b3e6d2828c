import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extensionOf, fileKind, previewKind } from '../../src/lib/file-types.js';

describe('file types', () => {
  it('reads the extension case-insensitively, ignoring a leading dot', () => {
    assert.equal(extensionOf('Holiday.JPG'), 'jpg');
    assert.equal(extensionOf('archive.tar.gz'), 'gz');
    assert.equal(extensionOf('README'), '');
    assert.equal(extensionOf('trailing.'), '');
  });

  it('maps kinds to the preview the browser can show', () => {
    assert.equal(previewKind('photo.png'), 'image');
    assert.equal(previewKind('clip.webm'), 'video');
    assert.equal(previewKind('song.mp3'), 'audio');
    assert.equal(previewKind('paper.pdf'), 'pdf');
    assert.equal(previewKind('notes.txt'), 'text');
    assert.equal(previewKind('page.html'), 'text', 'HTML is shown as source, never rendered');
    assert.equal(previewKind('logo.svg'), 'text', 'SVG is shown as source, never rendered');
    assert.equal(previewKind('backup.zip'), 'none');
    assert.equal(previewKind('Makefile'), 'none');
  });

  it('gives every name an icon kind', () => {
    assert.equal(fileKind('sheet.xlsx'), 'spreadsheet');
    assert.equal(fileKind('main.ts'), 'code');
    assert.equal(fileKind('mystery.bin'), 'other');
  });
});
