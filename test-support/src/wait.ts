import { setTimeout as sleep } from 'node:timers/promises';

/** The longest any single wait in a test may take before the test fails instead of hanging. */
export const WAIT_MS = 5000;

/** How often `eventually` looks again. */
const POLL_MS = 20;

/** Rejects, naming `what`, when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms = WAIT_MS, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `check` until it neither returns false nor throws, and returns what it returned; after
 * `ms` fails naming `what`, with the last assertion's message. For effects that land a moment
 * after the event a test can see (a socket closing, a file renamed, a page re-rendered).
 */
export async function eventually<T>(check: () => T | Promise<T>, what: string, ms = WAIT_MS): Promise<Exclude<T, false>> {
  const deadline = Date.now() + ms;
  for (;;) {
    let failure: unknown;
    try {
      const result = await check();
      if (result !== false) return result as Exclude<T, false>;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) {
      const why = failure instanceof Error ? `: ${failure.message}` : '';
      throw new Error(`${what}: still not true after ${ms} ms${why}`, { cause: failure });
    }
    await sleep(POLL_MS);
  }
}
