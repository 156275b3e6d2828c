import { WAIT_MS, within } from './wait.js';

/** One scrape of a Prometheus text endpoint: each sample by its series (`name{label="value",...}`). */
export class Scrape {
  readonly #samples: Map<string, number>;

  constructor(text: string) {
    this.#samples = new Map();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      this.#samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }

  /** The sample of `series` exactly as the endpoint writes it (labels in its order); 0 when absent, as a counter not yet moved. */
  value(series: string): number {
    return this.#samples.get(series) ?? 0;
  }

  /** True when the endpoint wrote `series`. */
  has(series: string): boolean {
    return this.#samples.has(series);
  }

  /** How far each series moved since `before`, for the series that moved. */
  movedSince(before: Scrape, names: RegExp): Map<string, number> {
    const moved = new Map<string, number>();
    for (const [series, value] of this.#samples) {
      const delta = value - before.value(series);
      if (names.test(series) && delta !== 0) moved.set(series, delta);
    }
    return moved;
  }
}

/** GETs a metrics URL (bounded) and parses it; a status other than 200 throws. */
export async function scrape(url: string): Promise<Scrape> {
  const response = await within(fetch(url), WAIT_MS, `scraping ${url}`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`scraping ${url}: ${response.status} ${text.slice(0, 200)}`);
  return new Scrape(text);
}
