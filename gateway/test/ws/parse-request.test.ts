import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WS_MAX_MESSAGE_BYTES } from '../../src/api/index.js';
import { parseWsRequest } from '../../src/ws/parse-request.js';

const parse = (value: unknown) => parseWsRequest(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), false);

test('show and search requests are accepted as typed', () => {
  assert.deepEqual(parse({ id: 1, command: 'show' }), { ok: true, request: { id: 1, command: 'show' } });
  assert.deepEqual(parse({ id: 2, command: 'search', text: 'two words' }), { ok: true, request: { id: 2, command: 'search', text: 'two words' } });
  assert.deepEqual(parse({ id: 3, command: 'search', text: '' }), { ok: true, request: { id: 3, command: 'search', text: '' } });
});

test('ping and since requests are accepted as typed; since needs a seq', () => {
  assert.deepEqual(parse({ id: 1, command: 'ping' }), { ok: true, request: { id: 1, command: 'ping' } });
  assert.deepEqual(parse({ id: 2, command: 'since', seq: 1_700_000_000_123 }), { ok: true, request: { id: 2, command: 'since', seq: 1_700_000_000_123 } });
  for (const seq of [undefined, '5', -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
    const parsed = parse({ id: 3, command: 'since', seq });
    assert.ok(!parsed.ok && parsed.id === 3 && /since needs a "seq"/.test(parsed.error), String(seq));
  }
});

test('each kind of bad message is named, with the id when there is one', () => {
  const cases: [unknown, number | null, RegExp][] = [
    ['not json', null, /malformed JSON/],
    ['null', null, /JSON object/],
    ['"show"', null, /JSON object/],
    [{ command: 'show' }, null, /numeric "id"/],
    [{ id: null, command: 'show' }, null, /numeric "id"/],
    [{ id: 1 }, 1, /unknown command undefined/],
    [{ id: 1, command: 'SHOW' }, 1, /unknown command "SHOW"/],
    [{ id: 1, command: 'search', text: 5 }, 1, /"text" string/],
    [{ id: 1, command: 'search', text: 'a\r\nexit' }, 1, /control characters/],
  ];
  for (const [message, id, pattern] of cases) {
    const parsed = parse(message);
    assert.equal(parsed.ok, false, JSON.stringify(message));
    if (parsed.ok) continue;
    assert.equal(parsed.id, id, JSON.stringify(message));
    assert.match(parsed.error, pattern);
  }
});

test('oversize and binary messages are refused before parsing', () => {
  const big = parseWsRequest(Buffer.alloc(WS_MAX_MESSAGE_BYTES + 1, 0x20), false);
  assert.ok(!big.ok && /limit is 65536 bytes/.test(big.error));
  const binary = parseWsRequest(Buffer.from('{"id":1,"command":"show"}'), true);
  assert.ok(!binary.ok && /binary/.test(binary.error));
});
