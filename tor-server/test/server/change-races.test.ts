import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChangeEvent } from '../../src/protocol/changes.js';
import { WAIT_MS } from 'test-support';
import { LineClient, TEST_STORE, patternBytes, placeFile, startServer, storedBytes, storedNames } from '../helpers.js';
import { describeEvent, rawWatcher } from './watch-helpers.js';

const CLIENTS = 50;
const WATCHERS = 10;
const RACE_ROUNDS = 20;
// Each of the crowd's commands waits for the others' (the feed records one change at a time): on an
// object store every change is several requests to the engine.
const REPLY_MS = TEST_STORE === 's3' ? 60_000 : WAIT_MS;

describe('delete during a download', () => {
  it('the download finishes with identical bytes; the file is gone for everyone else', async (t) => {
    const data = patternBytes(24 * 1024 * 1024, 9);
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'big.bin', data);
    const downloader = await LineClient.connect(t, port);
    assert.deepEqual([await downloader.request('download big.bin'), await downloader.line(), await downloader.line()], ['ok', 'found', String(data.length)]);
    // Stop reading, so the transfer is held mid-way by backpressure while the file is deleted.
    downloader.socket.pause();
    const admin = await LineClient.connect(t, port);
    assert.deepEqual([await admin.request('delete big.bin'), await admin.line()], ['ok', 'deleted']);
    assert.deepEqual(await storedNames(server), []);
    assert.deepEqual([await admin.request('stat big.bin'), await admin.line()], ['ok', 'Not found file']);
    downloader.socket.resume();
    assert.ok((await downloader.bytes(data.length, 30_000)).equals(data), 'the downloaded bytes are the file as it was');
    assert.equal(await downloader.request('show'), 'ok');
  });
});

describe('rename races', () => {
  it('two renames to the same new name: exactly one wins, the other gets File already exists, nothing is overwritten', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    const [one, two] = [await LineClient.connect(t, port), await LineClient.connect(t, port)];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      await placeFile(server, `a${round}`, `from a ${round}`);
      await placeFile(server, `b${round}`, `from b ${round}`);
      one.send(`rename a${round}\tc${round}\n`);
      two.send(`rename b${round}\tc${round}\n`);
      const replies = [(await one.lines(2)).join(' '), (await two.lines(2)).join(' ')];
      assert.deepEqual([...replies].sort(), [`ok File already exists: c${round}`, 'ok renamed'], `round ${round}`);
      const winner = replies[0] === 'ok renamed' ? 'a' : 'b';
      const loser = winner === 'a' ? 'b' : 'a';
      assert.equal(String(await storedBytes(server, `c${round}`)), `from ${winner} ${round}`);
      assert.equal(String(await storedBytes(server, `${loser}${round}`)), `from ${loser} ${round}`);
    }
  });

  it('two renames of the same file to different names: one wins, the other finds no file; it ends up under one name', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    const [one, two] = [await LineClient.connect(t, port), await LineClient.connect(t, port)];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      await placeFile(server, `s${round}`, `source ${round}`);
      one.send(`rename s${round}\tx${round}\n`);
      two.send(`rename s${round}\ty${round}\n`);
      const replies = [(await one.lines(2)).join(' '), (await two.lines(2)).join(' ')];
      assert.deepEqual([...replies].sort(), ['ok Not found file', 'ok renamed'], `round ${round}`);
      const names = (await storedNames(server)).filter((name) => name.endsWith(String(round)) && name.length === String(round).length + 1);
      assert.deepEqual(names, [replies[0] === 'ok renamed' ? `x${round}` : `y${round}`]);
    }
  });
});

describe('the change feed under concurrency', () => {
  it(`${CLIENTS} clients upload, rename and delete while ${WATCHERS} watchers each see every change exactly once, in one order`, async (t) => {
    const { port } = await startServer(t, { openAccess: 'admin', maxClientsPerAddress: 128 });
    const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => rawWatcher(t, port)));
    const start = watchers[0]!.seq;
    for (const w of watchers) assert.equal(w.seq, start, 'no change happened while the watchers started');
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => LineClient.connect(t, port)));
    // Every client uploads its own file and renames it; odd clients also race for one shared name; every third deletes its file.
    let expected = 0;
    await Promise.all(
      clients.map(async (client, i) => {
        const data = patternBytes(1000 + i, i + 1);
        assert.deepEqual(await client.upload(`file ${i}`, data, REPLY_MS), ['ok', 'ok', 'end']);
        client.send(`rename file ${i}\trenamed ${i}\n`);
        assert.deepEqual(await client.lines(2, REPLY_MS), ['ok', 'renamed']);
        expected += 2;
        // The client that wins the shared name keeps it (were it deleted, a later rename could win it again).
        let won = false;
        if (i % 2 === 1) {
          client.send(`rename renamed ${i}\tshared\n`);
          const reply = (await client.lines(2, REPLY_MS)).join(' ');
          won = reply === 'ok renamed';
          if (won) expected++;
          else assert.equal(reply, 'ok File already exists: shared');
        }
        if (i % 3 === 0 && !won) {
          client.send(`delete renamed ${i}\n`);
          assert.deepEqual(await client.lines(2, REPLY_MS), ['ok', 'deleted']);
          expected++;
        }
      }),
    );
    const seen = await Promise.all(watchers.map((w) => w.events(expected, 20_000)));
    const first = seen[0]!;
    assert.deepEqual(
      first.map((e) => e.seq),
      Array.from({ length: expected }, (_, k) => start + 1 + k),
      'seqs rise by one',
    );
    for (const events of seen) assert.deepEqual(events, first, 'every watcher saw the same changes in the same order');
    assert.equal(first.filter((e) => e.type === 'renamed' && e.to === 'shared').length, 1, 'one rename to the shared name won');
    // Nothing more was sent: the next line each watcher reads is the next real change.
    assert.deepEqual(await clients[0]!.upload('marker', Buffer.from('m')), ['ok', 'ok', 'end']);
    for (const w of watchers) assert.deepEqual((await w.events(1)).map(describeEvent), ['added marker 1']);
    // Replaying the feed over an empty folder gives exactly what the server lists now.
    const client = clients[0]!;
    assert.equal(await client.request('show'), 'ok');
    const listed = (await client.listing()).map((row) => row.split('\t')[0]).sort();
    assert.deepEqual(replay([...first, { type: 'added', seq: 0, entry: { name: 'marker', size: 1, modified: '' } }]), listed);
  });
});

function replay(events: ChangeEvent[]): string[] {
  const names = new Set<string>();
  for (const e of events) {
    if (e.type === 'added') names.add(e.entry.name);
    else if (e.type === 'removed') assert.ok(names.delete(e.name), `removed ${e.name}, which was not there`);
    else if (e.type === 'renamed') {
      assert.ok(names.delete(e.from), `renamed ${e.from}, which was not there`);
      assert.ok(!names.has(e.to), `renamed over ${e.to}`);
      names.add(e.to);
    }
  }
  return [...names].sort();
}
