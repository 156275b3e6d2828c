import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { Reply } from '../../src/protocol/constants.js';
import { parsePartialLine } from '../../src/protocol/resumable.js';
import { LineClient, patternBytes, startServer } from '../helpers.js';
import { begin, put, status } from './resumable-helpers.js';

const HOUR_MS = 3600_000;

describe('status <id> details', () => {
  it('adds the size, the expiry (a TTL after now) and the name after the have line; plain status stays two lines', async (t) => {
    const { port } = await startServer(t, { partialTtlMs: HOUR_MS });
    const client = await LineClient.connect(t, port);
    const data = patternBytes(1000, 7);
    const { id } = await begin(client, data.length, undefined, 'two words.bin');
    assert.deepEqual(await put(client, id, 0, data.subarray(0, 400)), [Reply.OK, Reply.STORED]);
    const before = Date.now();
    assert.equal(await client.request(`status ${id} details`), Reply.OK);
    const [have, details] = await client.lines(2);
    const after = Date.now();
    assert.equal(have, 'have 0-400');
    assert.match(details!, /^partial 1000 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z two words\.bin$/);
    const parsed = parsePartialLine(details!)!;
    assert.equal(parsed.name, 'two words.bin');
    const expires = Date.parse(parsed.expires);
    assert.ok(expires >= before + HOUR_MS && expires <= after + HOUR_MS, `${parsed.expires} is a TTL after the status`);
    // The plain form is unchanged: exactly `ok`, `have`, and the next command's reply follows.
    assert.equal(await status(client, id), 'have 0-400');
    assert.equal(await client.request('show'), Reply.OK);
  });

  it('waits for a put under way to end, so the bytes a cut put kept are in its ranges', async (t) => {
    const { port } = await startServer(t);
    const writer = await LineClient.connect(t, port);
    const asker = await LineClient.connect(t, port);
    const { id } = await begin(writer, 1000, undefined, 'cut.bin');
    assert.equal(await writer.request(`put ${id} 0 1000`), Reply.OK);
    writer.send(patternBytes(400, 1));
    // Plain status answers at once, without the bytes of the put under way.
    assert.equal(await status(asker, id), 'have none');
    // Asked while the put is under way (claimed at its `ok`), answered once it ended.
    const answer = asker.request(`status ${id} details`);
    writer.destroy();
    assert.equal(await answer, Reply.OK);
    assert.equal(await asker.line(), 'have 0-400');
    assert.match(await asker.line(), /^partial 1000 /);
  });

  it('refuses an unknown id as plain status does', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.match(await client.request(`status ${'a'.repeat(32)} details`), /^Unknown upload: /);
  });

  it('TftcpClient.details returns have, size, expiry and name', async (t) => {
    const { port } = await startServer(t, { partialTtlMs: HOUR_MS });
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    t.after(() => client.destroy());
    const { id } = await client.begin('d.bin', 10);
    await client.put(id, 2, Buffer.from('abc'));
    const details = await client.details(id);
    assert.ok(!details.committed);
    assert.deepEqual({ ...details, expires: undefined }, { id, have: [[2, 5]], size: 10, name: 'd.bin', expires: undefined, committed: false });
    assert.ok(Date.parse(details.expires) > Date.now());
  });
});
