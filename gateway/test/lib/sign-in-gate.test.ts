import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { SIGN_IN_RETRY_AFTER_SECONDS, SignInGate } from '../../src/lib/sign-in-gate.js';

test('sign-ins of new tokens: at most perAddress under way per address, the next wait their turn in order, other addresses are not held back', async () => {
  const gate = new SignInGate({ perAddress: 2, maxWaiting: 1 });
  const first = await gate.enter('10.0.0.1');
  const second = await gate.enter('10.0.0.1');
  assert.equal(gate.inFlight('10.0.0.1'), 2);
  let thirdIn = false;
  const third = gate.enter('10.0.0.1').then((end) => ((thirdIn = true), end));
  // The line of that address is full: one more is refused at once, 429 with Retry-After.
  await assert.rejects(gate.enter('10.0.0.1'), (error) => error instanceof GatewayError && error.code === 'GW_ERR_TOO_MANY_SIGN_INS' && error.statusCode === 429 && error.retryAfterSeconds === SIGN_IN_RETRY_AFTER_SECONDS);
  const elsewhere = await gate.enter('10.0.0.2');
  assert.equal(thirdIn, false);
  first();
  first();
  const endThird = await third;
  assert.equal(gate.inFlight('10.0.0.1'), 2, 'the turn passed on, counted once');
  second();
  endThird();
  elsewhere();
  assert.equal(gate.inFlight('10.0.0.1'), 0);
  assert.equal(gate.inFlight('10.0.0.2'), 0);
});

test('a sign-in waiting for its turn leaves the line when its client goes away', async () => {
  const gate = new SignInGate({ perAddress: 1 });
  const end = await gate.enter('10.0.0.1');
  const controller = new AbortController();
  const waiting = gate.enter('10.0.0.1', controller.signal);
  controller.abort();
  await assert.rejects(waiting, (error) => error instanceof GatewayError && error.code === 'GW_ERR_CLIENT_GONE');
  end();
  assert.equal(gate.inFlight('10.0.0.1'), 0);
});
