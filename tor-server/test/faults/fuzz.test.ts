import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { within } from 'test-support';
import { parseCommandLine, parseRangeArguments } from '../../src/protocol/command-line.js';
import { MAX_NAME_BYTES, Reply } from '../../src/protocol/constants.js';
import { formatFileRow, parseFileRow } from '../../src/protocol/file-row.js';
import { INVALID_LINE, LineReader } from '../../src/protocol/line-reader.js';
import { fileNameProblem } from '../../src/protocol/names.js';
import { LineClient, startServer } from '../helpers.js';

const anyText = fc.string({ unit: 'binary', maxLength: 300 });

test('parseCommandLine: command and argument always put the line back together', () => {
  fc.assert(
    fc.property(anyText, (line) => {
      const { command, argument } = parseCommandLine(line);
      assert.ok(!command.includes(' '));
      const rebuilt = argument === undefined ? command : `${command} ${argument}`;
      // The only loss allowed: a trailing lone space (an empty argument is no argument).
      assert.ok(rebuilt === line || `${rebuilt} ` === line);
    }),
    { numRuns: 2000 },
  );
});

test('parseRangeArguments accepts exactly <digits> <digits> <name>', () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(), anyText, (offset, length, name) => {
      const parsed = parseRangeArguments(`${offset} ${length} ${name}`);
      if (name.length === 0) assert.equal(parsed, undefined);
      else assert.deepEqual(parsed, { offset, length, name });
    }),
  );
  fc.assert(fc.property(anyText, (text) => void parseRangeArguments(text)));
});

test('file names: anything with a separator, a control or bidi character, a byte order mark or a leading dot is refused', () => {
  fc.assert(
    fc.property(anyText, (name) => {
      const problem = fileNameProblem(name);
      const mustRefuse =
        name.length === 0 ||
        /[/\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/.test(name) ||
        name.startsWith('.') ||
        Buffer.byteLength(name) > MAX_NAME_BYTES ||
        !name.isWellFormed();
      assert.equal(problem !== undefined, mustRefuse, `${JSON.stringify(name)}: ${problem}`);
    }),
    { numRuns: 3000 },
  );
});

test('every valid name survives a listing row round trip', () => {
  fc.assert(
    fc.property(anyText.filter((n) => fileNameProblem(n) === undefined), fc.nat(), (name, size) => {
      const entry = { name, size, modified: new Date(1_700_000_000_000 + size).toISOString() };
      assert.deepEqual(parseFileRow(formatFileRow(entry)), entry);
    }),
  );
});

test('the line reader yields the same lines however the bytes are split', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 50 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), async (lines, cuts) => {
      const bytes = Buffer.from(lines.map((l, i) => `${l}${i % 2 ? '\r\n' : '\n'}`).join(''));
      const reader = new LineReader();
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = cuts[i % cuts.length]!;
        reader.write(bytes.subarray(at, at + size));
        at += size;
      }
      reader.end();
      const got: string[] = [];
      for (let line = await reader.nextLine(); line !== null; line = await reader.nextLine()) got.push(line === INVALID_LINE ? '<invalid>' : line);
      assert.deepEqual(got, lines);
    }),
    { numRuns: 300 },
  );
});

test('random byte streams at the live server: it stays up and keeps answering correctly', async (t) => {
  const { port } = await startServer(t, { stallTimeoutMs: 500, idleTimeoutMs: 2000 });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 2048 }), { minLength: 1, maxLength: 8 }), async (chunks) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.resume();
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
      await within(new Promise((resolve) => socket.once('close', resolve)), 5000, 'the server to finish with the garbage');
    }),
    { numRuns: 60 },
  );
  const probe = await LineClient.connect(t, port);
  assert.equal(await probe.request('show'), Reply.OK);
  await probe.listing();
  assert.equal(await probe.request('exit'), Reply.EXIT);
});
