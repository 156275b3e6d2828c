/**
 * The bytes of `source`, calling `onIdle` when one is asked for and none comes within `idleMs`
 * (`onIdle` is expected to destroy the source, which ends the iteration with its error). Only
 * the time spent waiting on the sender counts: a consumer slowed by the tor-server (a `put`'s
 * fsync, a queue for a connection) is never taken for an idle client.
 */
export async function* cutWhenIdle(source: AsyncIterable<Buffer>, idleMs: number, onIdle: () => void): AsyncGenerator<Buffer> {
  const bytes = source[Symbol.asyncIterator]();
  for (;;) {
    const timer = setTimeout(onIdle, idleMs);
    let step: IteratorResult<Buffer>;
    try {
      step = await bytes.next();
    } finally {
      clearTimeout(timer);
    }
    if (step.done) return;
    yield step.value;
  }
}
