import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { within } from 'test-support';
import { startServer } from '../helpers.js';

async function connect(t: TestContext, port: number): Promise<TftcpClient> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  t.after(() => client.destroy());
  return client;
}

describe('ChangeWatch.lastSeq across a reconnect', () => {
  it('a resumed watch dropped before its replay is read resumes from the same since, and loses nothing', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    const first = await (await connect(t, port)).watch();
    const since = first.seq;
    await first.close();
    await client.upload('one', 1, [Buffer.from('1')]);
    await client.upload('two', 1, [Buffer.from('2')]);
    const watcher = await connect(t, port);
    const dropped = await watcher.watch(since);
    assert.equal(dropped.seq, since + 2);
    // The connection drops before the replayed events are read.
    watcher.destroy();
    assert.equal(dropped.lastSeq, since, 'nothing of the replay was read');
    const resumed = await (await connect(t, port)).watch(dropped.lastSeq);
    const names = [];
    for (let i = 0; i < 2; i++) {
      const next = await within(resumed.next(), 5000, 'a replayed change');
      assert.ok(!next.done && next.value.type === 'added');
      names.push(next.value.entry.name);
    }
    assert.deepEqual(names, ['one', 'two']);
    assert.equal(resumed.lastSeq, since + 2);
    await resumed.close();
  });

  it('a stale since stays lastSeq until the resync is read, then it is the watch start', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    await client.upload('one', 1, [Buffer.from('1')]);
    const stale = await (await connect(t, port)).watch(1);
    assert.equal(stale.lastSeq, 1);
    assert.deepEqual(await within(stale.next(), 5000, 'the resync'), { done: false, value: { type: 'resync', seq: stale.seq } });
    assert.equal(stale.lastSeq, stale.seq);
    await stale.close();
  });
});
