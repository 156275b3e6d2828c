/** Whatever takes clean-ups to run later: a node:test TestContext, or a Scope. */
export interface Owner {
  after(fn: () => unknown): void;
}

/**
 * Collects clean-ups for something longer-lived than one test (a describe block's shared
 * servers, a benchmark run, a browser-test stack): `after(() => scope.close())`. Runs them
 * newest first, each once.
 */
export class Scope implements Owner {
  readonly #cleanups: (() => unknown)[] = [];

  after(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.#cleanups.splice(0).reverse()) await fn();
  }
}
