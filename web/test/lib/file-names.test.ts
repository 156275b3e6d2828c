import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alternativeName, fileUrl } from '../../src/lib/file-names.js';

describe('alternativeName', () => {
  it('offers "name (1).ext" for a taken name', () => {
    assert.equal(alternativeName('report.pdf', new Set(['report.pdf'])), 'report (1).pdf');
  });

  it('skips numbers that are taken too', () => {
    const taken = new Set(['report.pdf', 'report (1).pdf', 'report (2).pdf']);
    assert.equal(alternativeName('report.pdf', taken), 'report (3).pdf');
  });

  it('counts on from a name that is already numbered', () => {
    assert.equal(alternativeName('report (1).pdf', new Set(['report (1).pdf'])), 'report (2).pdf');
  });

  it('handles names without an extension, dot-less stems and double extensions', () => {
    assert.equal(alternativeName('Makefile', new Set()), 'Makefile (1)');
    assert.equal(alternativeName('backup.tar.gz', new Set()), 'backup (1).tar.gz');
    assert.equal(alternativeName('my.notes.txt', new Set()), 'my.notes (1).txt');
  });
});

describe('fileUrl', () => {
  it('percent-encodes the whole name into one path segment', () => {
    assert.equal(fileUrl('a b/c?#.txt'), '/api/files/a%20b%2Fc%3F%23.txt');
    assert.equal(fileUrl('café.png', true), '/api/files/caf%C3%A9.png?inline=1');
  });
});
