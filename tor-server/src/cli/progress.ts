import { printable } from '../protocol/printable.js';
import { formatBytes, formatClock } from './format.js';
import type { CliOutput } from './outcome.js';
import type { TransferHooks } from './transfers.js';

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** A one-line progress bar (bytes, percent, rate, ETA) redrawn in place on a terminal. */
export class ProgressBar {
  readonly #label: string;
  readonly #total: number;
  readonly #write: (text: string) => void;
  readonly #started = performance.now();
  /** Bytes already there when the bar started (a resumed download); the rate counts only new ones. */
  readonly #baseline: number;
  #done = 0;
  #lastDraw = 0;

  /** `write` gets each redraw; pass undefined to keep quiet (not a terminal). */
  constructor(label: string, total: number, write: ((text: string) => void) | undefined, alreadyDone = 0) {
    this.#label = label;
    this.#total = total;
    this.#write = write ?? (() => {});
    this.#done = alreadyDone;
    this.#baseline = alreadyDone;
  }

  /** Records progress to `done` bytes, redrawing at most every 100 ms. */
  update(done: number): void {
    this.#done = done;
    const now = performance.now();
    if (now - this.#lastDraw >= REDRAW_MS) {
      this.#lastDraw = now;
      this.#write(`\r${this.render(now)}\x1b[K`);
    }
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    this.#write(`\r${this.render(performance.now())}\x1b[K\n`);
  }

  /** Abandons the bar, redrawn where it stopped (a redraw may have been skipped), ending its line so the next message starts clean. */
  abort(): void {
    if (this.#lastDraw > 0) this.#write(`\r${this.render(performance.now())}\x1b[K\n`);
  }

  /** The bar as text at time `now`. */
  render(now: number): string {
    const fraction = this.#total > 0 ? Math.min(1, this.#done / this.#total) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? (this.#done - this.#baseline) / seconds : 0;
    const eta = rate > 0 ? (this.#total - this.#done) / rate : Infinity;
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    return `${this.#label} ${bar} ${percent}  ${formatBytes(this.#done)} / ${formatBytes(this.#total)}  ${formatBytes(rate)}/s  ETA ${fraction >= 1 ? '0:00' : formatClock(eta)}`;
  }
}

/** Progress of one transfer: the bar on a terminal, and how far it got for a cancel message. */
export function progressTracker(label: string, io: CliOutput) {
  let bar: ProgressBar | undefined;
  let total: number | undefined;
  let done = 0;
  const hooks: TransferHooks = {
    start: (size, already) => {
      total = size;
      done = already;
      bar = new ProgressBar(printable(label), size, io.progress, already);
    },
    progress: (bytes) => {
      done = bytes;
      bar?.update(bytes);
    },
  };
  return {
    hooks,
    bar: () => (io.progress ? bar : undefined),
    /** Whole percent done, undefined before the size is known. */
    percent: () => (total === undefined ? undefined : total === 0 ? 100 : Math.floor((done / total) * 100)),
    complete: () => total !== undefined && done >= total,
  };
}
