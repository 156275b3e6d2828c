import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatClock, formatTable, formatTsv } from '../../src/cli/format.js';
import { ProgressBar } from '../../src/cli/progress.js';

test('formatBytes uses decimal units with one decimal below 100', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.0 KB');
  assert.equal(formatBytes(1_234_567), '1.2 MB');
  assert.equal(formatBytes(123_456_789), '123 MB');
  assert.equal(formatBytes(5e12), '5.0 TB');
});

test('formatClock prints m:ss and h:mm:ss, and --:-- when unknown', () => {
  assert.equal(formatClock(7), '0:07');
  assert.equal(formatClock(754), '12:34');
  assert.equal(formatClock(3723), '1:02:03');
  assert.equal(formatClock(Infinity), '--:--');
});

test('formatTable aligns columns and sums the files', () => {
  const table = formatTable([
    { name: 'a.txt', size: 5, modified: '2026-11-25T08:00:00.000Z' },
    { name: 'longer name.pdf', size: 2_500_000, modified: '2026-11-25T09:30:00.000Z' },
  ]);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^Name\s+Size {2}Modified$/);
  // Sizes are right-aligned, so every size column ends at the same offset.
  assert.equal(lines[1]!.indexOf('5 B') + 3, lines[2]!.indexOf('2.5 MB') + 6);
  assert.equal(lines[3], '2 files, 2.5 MB');
  assert.equal(formatTable([]), 'No files.');
});

test('formatTsv prints the raw listing rows', () => {
  assert.equal(formatTsv([{ name: 'a b', size: 3, modified: '2026-11-25T08:00:00.000Z' }]), 'a b\t3\t2026-11-25T08:00:00.000Z');
});

test('ProgressBar shows bytes, percent, rate and ETA', () => {
  const bar = new ProgressBar('clip.mp4', 2_000_000, undefined);
  bar.update(1_000_000);
  const text = bar.render(performance.now() + 1000);
  assert.match(text, /^clip\.mp4 \[#{12}-{12}\]  50% {2}1\.0 MB \/ 2\.0 MB {2}[\d.]+ [KM]?B\/s {2}ETA \d+:\d\d$/);
});

test('formatTable and formatTsv escape control characters in names, so a row cannot drive the terminal', () => {
  const hostile = { name: 'a\x1b[2J\u009b\u202eb\tc', size: 1, modified: '2026-11-25T08:00:00.000Z' };
  const table = formatTable([hostile]);
  assert.match(table.split('\n')[1]!, /^a\\x1b\[2J\\x9b\\u202eb\\x09c {2}/);
  assert.equal(formatTsv([hostile]), 'a\\x1b[2J\\x9b\\u202eb\\x09c\t1\t2026-11-25T08:00:00.000Z');
});

test('ProgressBar.abort redraws where the transfer stopped, so a cancel line follows the real percent', () => {
  const written: string[] = [];
  const bar = new ProgressBar('x.bin', 1000, (text) => written.push(text));
  bar.update(10);
  bar.update(370); // within the redraw interval: not drawn yet
  bar.abort();
  assert.match(written.at(-1)!, /^\rx\.bin \[#{9}-{15}\]  37% .*\x1b\[K\n$/);
});
