import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileChange, FileEntry } from 'gateway/api';
import { applyChange, LiveListing, matchesSearch, MAX_HELD_CHANGES } from '../../src/lib/live-listing.js';

const T = '2026-11-24T10:00:00.000Z';
const row = (name: string, size = 1): FileEntry => ({ name, size, modified: T });
const added = (seq: number, name: string, size = 1): FileChange => ({ type: 'added', seq, file: row(name, size) });
const removed = (seq: number, name: string): FileChange => ({ type: 'removed', seq, name });
const renamed = (seq: number, from: string, to: string, file?: FileEntry): FileChange => ({ type: 'renamed', seq, from, to, ...(file ? { file } : {}) });
const names = (listing: LiveListing) => listing.files.map((file) => file.name).sort();

function listed(files: FileEntry[], seq: number, query = ''): LiveListing {
  const listing = new LiveListing();
  listing.hold();
  listing.replace({ files, seq }, query);
  return listing;
}

describe('matchesSearch', () => {
  it('is the tor-server rule: contains, case-insensitively; empty matches all', () => {
    assert.ok(matchesSearch('Quarterly Report.pdf', 'report'));
    assert.ok(matchesSearch('Année.txt', 'ANNÉE'));
    assert.ok(!matchesSearch('notes.txt', 'report'));
    assert.ok(matchesSearch('anything', ''));
  });
});

describe('applyChange', () => {
  const files = [row('a.txt'), row('b.txt')];

  it('is idempotent: an added row already there, a removed row already gone change nothing', () => {
    assert.equal(applyChange(files, added(1, 'a.txt'), ''), files);
    assert.equal(applyChange(files, removed(1, 'zzz'), ''), files);
    const once = applyChange(files, added(1, 'c.txt'), '')!;
    assert.deepEqual(applyChange(once, added(1, 'c.txt'), ''), once);
  });

  it('updates a row added again with another size', () => {
    assert.deepEqual(applyChange(files, added(1, 'a.txt', 9), ''), [row('a.txt', 9), row('b.txt')]);
  });

  it('moves a renamed row, keeping its size and date when the change has no row', () => {
    const sized = [row('a.txt', 5)];
    assert.deepEqual(applyChange(sized, renamed(1, 'a.txt', 'z.txt'), ''), [row('z.txt', 5)]);
    assert.deepEqual(applyChange(sized, renamed(1, 'a.txt', 'z.txt', row('z.txt', 6)), ''), [row('z.txt', 6)]);
  });

  it('keeps search results correct: only matching rows appear', () => {
    const found = [row('report.pdf')];
    assert.equal(applyChange(found, added(1, 'notes.txt'), 'report'), found);
    assert.deepEqual(applyChange(found, added(1, 'REPORT-2.pdf'), 'report'), [row('report.pdf'), row('REPORT-2.pdf')]);
    // Renamed out of the search: gone; renamed into it with its row: shown.
    assert.deepEqual(applyChange(found, renamed(1, 'report.pdf', 'old.pdf'), 'report'), []);
    assert.deepEqual(applyChange([], renamed(1, 'x.pdf', 'report-x.pdf', row('report-x.pdf')), 'report'), [row('report-x.pdf')]);
  });

  it('asks for a listing when a rename brings in a row it has no details for, and on resync', () => {
    assert.equal(applyChange([], renamed(1, 'x.pdf', 'report-x.pdf'), 'report'), null);
    assert.equal(applyChange(files, { type: 'resync', seq: 1 }, ''), null);
  });
});

describe('LiveListing', () => {
  it('applies pushed changes newer than the listing, once each', () => {
    const listing = listed([row('a.txt')], 10);
    assert.deepEqual(listing.receive(added(11, 'b.txt')), { applied: [added(11, 'b.txt')], relist: false });
    // A change the listing already reflects (seq not newer) is skipped, as is a repeat.
    assert.deepEqual(listing.receive(removed(9, 'a.txt')), { applied: [], relist: false });
    assert.deepEqual(listing.receive(added(11, 'b.txt')), { applied: [], relist: false });
    assert.deepEqual(names(listing), ['a.txt', 'b.txt']);
    assert.equal(listing.seq, 11);
  });

  it('holds changes that arrive while a listing is on its way and applies the newer ones on top of it', () => {
    const listing = listed([row('a.txt')], 10);
    listing.hold();
    listing.receive(added(11, 'b.txt'));
    listing.receive(removed(12, 'a.txt'));
    listing.receive(added(13, 'c.txt'));
    assert.deepEqual(names(listing), ['a.txt'], 'nothing applied while holding');
    // The listing was taken at 12: it has b.txt and no a.txt; only 13 is new to it.
    const result = listing.replace({ files: [row('b.txt')], seq: 12 }, '');
    assert.deepEqual(result, { applied: [added(13, 'c.txt')], relist: false });
    assert.deepEqual(names(listing), ['b.txt', 'c.txt']);
  });

  it('gets to the same rows whichever of the held changes the listing already reflects', () => {
    // Listed at seq 10 but answered after 11 and 12 happened: replaying them is harmless.
    const listing = listed([], 0);
    listing.hold();
    listing.receive(added(11, 'x.txt'));
    listing.receive(renamed(12, 'x.txt', 'y.txt', row('y.txt')));
    listing.replace({ files: [row('y.txt')], seq: 10 }, '');
    assert.deepEqual(names(listing), ['y.txt']);
  });

  it('keeps holding until every listing and catch-up on its way has answered', () => {
    const listing = listed([row('a.txt')], 10);
    listing.hold();
    listing.hold();
    listing.receive(added(12, 'late.txt'));
    listing.catchUp([added(11, 'missed.txt')]);
    assert.deepEqual(names(listing), ['a.txt', 'missed.txt'], 'the catch-up applied, the push still held');
    listing.replace({ files: [row('a.txt'), row('missed.txt')], seq: 11 }, '');
    assert.deepEqual(names(listing), ['a.txt', 'late.txt', 'missed.txt']);
  });

  it('applies held changes to the rows shown when the listing fails', () => {
    const listing = listed([row('a.txt')], 10);
    listing.hold();
    listing.receive(removed(11, 'a.txt'));
    assert.deepEqual(listing.release(), { applied: [removed(11, 'a.txt')], relist: false });
    assert.deepEqual(names(listing), []);
  });

  it('asks for a listing on resync, and when more changes arrive than it holds', () => {
    const listing = listed([row('a.txt')], 10);
    assert.equal(listing.receive({ type: 'resync', seq: 11 }).relist, true);
    listing.hold();
    for (let seq = 12; seq <= 12 + MAX_HELD_CHANGES; seq += 1) listing.receive(added(seq, `f${seq}`));
    assert.equal(listing.release().relist, true);
  });

  it('ignores changes before the first listing (it will include them)', () => {
    const listing = new LiveListing();
    assert.deepEqual(listing.receive(added(1, 'a.txt')), { applied: [], relist: false });
    assert.deepEqual(listing.files, []);
  });

  it("shows the page's own change at once, and its event later changes nothing", () => {
    const listing = listed([row('a.txt'), row('b.txt')], 10);
    listing.applyOwn({ type: 'removed', seq: 0, name: 'a.txt' });
    listing.applyOwn({ type: 'renamed', seq: 0, from: 'b.txt', to: 'c.txt', file: row('c.txt') });
    assert.deepEqual(names(listing), ['c.txt']);
    assert.equal(listing.seq, 10, 'the feed position is untouched');
    assert.deepEqual(listing.receive(removed(11, 'a.txt')).applied, []);
    assert.deepEqual(listing.receive(renamed(12, 'b.txt', 'c.txt', row('c.txt'))).applied, []);
    assert.deepEqual(names(listing), ['c.txt']);
  });

  it("does not list again when the event of the page's own rename (with no row) arrives", () => {
    const listing = listed([row('a.txt', 7)], 10);
    listing.applyOwn(renamed(0, 'a.txt', 'b.txt'));
    assert.deepEqual(listing.files, [row('b.txt', 7)]);
    assert.deepEqual(listing.receive(renamed(11, 'a.txt', 'b.txt')), { applied: [], relist: false });
    assert.deepEqual(listing.files, [row('b.txt', 7)]);
    assert.equal(listing.seq, 11);
  });

  it('acts on a resync whatever its seq (a restarted server whose clock was set back), and takes its seq', () => {
    const listing = listed([row('a.txt')], 1000);
    assert.equal(listing.receive({ type: 'resync', seq: 500 }).relist, true);
    assert.equal(listing.seq, 500);
    assert.deepEqual(listing.receive(added(501, 'b.txt')).applied, [added(501, 'b.txt')]);
  });

  it('keeps one row per name when a listing repeats rows (regression: each_key_duplicate blanked the list)', () => {
    const twice = [row('a.txt'), row('a.txt', 99), row('b.txt'), row('a.txt')];
    assert.deepEqual(listed(twice, 1).files, [row('a.txt'), row('b.txt')]);
  });
});
