import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatAccessLine,
  formatChangeLine,
  formatHashLine,
  formatRenameArgument,
  formatWatchingLine,
  parseAccessLine,
  parseChangeLine,
  parseHashLine,
  parseRenameArgument,
  parseWatchingLine,
  type FileChange,
} from '../../src/protocol/changes.js';
import { accessAllows } from '../../src/protocol/constants.js';

const ENTRY = { name: 'holiday clip.mp4', size: 73400320, modified: '2026-11-25T08:12:45.120Z' };

describe('change lines', () => {
  it('formats each change as its event line, and parses it back', () => {
    const cases: [FileChange, string][] = [
      [{ type: 'added', seq: 17, entry: ENTRY }, 'added 17\tholiday clip.mp4\t73400320\t2026-11-25T08:12:45.120Z'],
      [{ type: 'removed', seq: 18, name: 'a b.txt' }, 'removed 18\ta b.txt'],
      [{ type: 'renamed', seq: 19, from: 'a.txt', to: 'b c.txt' }, 'renamed 19\ta.txt\tb c.txt'],
    ];
    for (const [change, line] of cases) {
      assert.equal(formatChangeLine(change), line);
      assert.deepEqual(parseChangeLine(line), change);
    }
  });

  it('a renamed event carries no row on the wire, even when the server knew it', () => {
    assert.equal(formatChangeLine({ type: 'renamed', seq: 1, from: 'a', to: 'b', entry: { ...ENTRY, name: 'b' } }), 'renamed 1\ta\tb');
  });

  it('resync parses with the seq it is given; anything malformed is undefined', () => {
    assert.deepEqual(parseChangeLine('resync', 42), { type: 'resync', seq: 42 });
    for (const line of ['', 'added', 'added 1', 'added x\ta\t1\t2026-11-25T08:12:45.120Z', 'added 1\ta\t1', 'removed 1\t.x', 'removed 1\ta/b', 'renamed 1\ta', 'renamed 1\ta\tb\tc', 'moved 1\ta', 'added -1\ta\t1\t2026-11-25T08:12:45.120Z', 'removed 1 a'])
      assert.equal(parseChangeLine(line), undefined, JSON.stringify(line));
  });
});

describe('TFTCP/1.1 answer lines', () => {
  it('rename arguments are two names joined by one TAB', () => {
    assert.equal(formatRenameArgument('a b', 'c'), 'a b\tc');
    assert.deepEqual(parseRenameArgument('a b\tc'), { from: 'a b', to: 'c' });
    for (const argument of ['a', 'a\tb\tc', '\tb', 'a\t']) assert.equal(parseRenameArgument(argument), undefined, JSON.stringify(argument));
  });

  it('sha256, access and watching lines', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(parseHashLine(formatHashLine(hex)), hex);
    assert.equal(parseHashLine(`sha256 ${hex.toUpperCase()}`), undefined);
    assert.equal(parseHashLine(`sha256 ${hex}0`), undefined);
    assert.equal(parseAccessLine(formatAccessLine('admin')), 'admin');
    assert.equal(parseAccessLine('access root'), undefined);
    assert.equal(parseWatchingLine(formatWatchingLine(1795649772070000)), 1795649772070000);
    assert.equal(parseWatchingLine('watching x'), undefined);
  });

  it('access levels include the ones below them', () => {
    assert.ok(accessAllows('admin', 'write') && accessAllows('write', 'read') && accessAllows('read', 'read'));
    assert.ok(!accessAllows('read', 'write') && !accessAllows('write', 'admin'));
  });
});
