import { RateMeter } from './rate-meter.js';

/** What an upload needs from a file: a File satisfies it. */
export interface UploadSource {
  readonly name: string;
  readonly size: number;
}

export type UploadStatus = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

/** One upload as the transfer panel shows it; a fresh object after every change. */
export interface UploadItem<S extends UploadSource = UploadSource> {
  readonly id: number;
  readonly source: S;
  /** The name it is stored under (the file's own, or the one the user chose after a conflict). */
  readonly name: string;
  readonly status: UploadStatus;
  readonly loaded: number;
  readonly total: number;
  /** Bytes per second, null until measurable. */
  readonly rate: number | null;
  /** Seconds left, null until measurable. */
  readonly eta: number | null;
  /** Why it failed: the server's own message where there is one. */
  readonly error: string | null;
  /** It failed because a file of that name already exists (HTTP 409). */
  readonly conflict: boolean;
}

/** How one upload ended: `status` is the HTTP status, 0 when the request never got an answer. */
export type UploadOutcome = { ok: true } | { ok: false; status: number; error: string };

export interface UploadJob<S> {
  source: S;
  name: string;
  /** Called with the bytes sent so far. */
  onProgress(loaded: number): void;
}

export interface RunningUpload {
  done: Promise<UploadOutcome>;
  abort(): void;
}

/** Sends one file; the browser's is XMLHttpRequest-based (upload-transport.ts). */
export type UploadTransport<S> = (job: UploadJob<S>) => RunningUpload;

export interface UploadQueueOptions<S extends UploadSource> {
  transport: UploadTransport<S>;
  /** Uploads running at once; the rest wait their turn. */
  concurrency?: number;
  /** Clock in ms, injectable for tests. */
  now?: () => number;
  /** Called with the new list after every change. */
  onChange?: (items: UploadItem<S>[]) => void;
  /** Called when a file has been stored. */
  onStored?: (item: UploadItem<S>) => void;
}

/** HTTP status the gateway answers when the name is taken. */
export const HTTP_CONFLICT = 409;
const DEFAULT_CONCURRENCY = 2;

interface Entry<S extends UploadSource> {
  item: UploadItem<S>;
  running: RunningUpload | null;
  meter: RateMeter;
}

/** Runs uploads a few at a time with progress, rate, ETA, cancel and retry under another name. */
export class UploadQueue<S extends UploadSource> {
  readonly #transport: UploadTransport<S>;
  readonly #concurrency: number;
  readonly #now: () => number;
  readonly #onChange: (items: UploadItem<S>[]) => void;
  readonly #onStored: (item: UploadItem<S>) => void;
  readonly #entries: Entry<S>[] = [];
  #nextId = 1;

  constructor(options: UploadQueueOptions<S>) {
    this.#transport = options.transport;
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#now = options.now ?? (() => performance.now());
    this.#onChange = options.onChange ?? (() => {});
    this.#onStored = options.onStored ?? (() => {});
  }

  /** Every upload of this page, oldest first. */
  get items(): UploadItem<S>[] {
    return this.#entries.map((entry) => entry.item);
  }

  /** Queues files for upload under their own names; returns their ids. */
  add(sources: readonly S[]): number[] {
    const ids = sources.map((source) => {
      const id = this.#nextId++;
      this.#entries.push({ item: freshItem(id, source, source.name), running: null, meter: new RateMeter() });
      return id;
    });
    this.#changed();
    this.#pump();
    return ids;
  }

  /** Stops a queued or running upload; the gateway drops whatever it had received. */
  cancel(id: number): void {
    const entry = this.#find(id);
    if (!entry || (entry.item.status !== 'queued' && entry.item.status !== 'uploading')) return;
    const running = entry.running;
    entry.running = null;
    this.#update(entry, { status: 'cancelled', rate: null, eta: null });
    running?.abort();
    this.#pump();
  }

  /** Queues a failed or cancelled upload again, optionally under another name. */
  retry(id: number, name?: string): void {
    const entry = this.#find(id);
    if (!entry || (entry.item.status !== 'failed' && entry.item.status !== 'cancelled')) return;
    entry.meter = new RateMeter();
    entry.item = freshItem(id, entry.item.source, name ?? entry.item.name);
    this.#changed();
    this.#pump();
  }

  /** Removes a finished, failed or cancelled upload from the list. */
  dismiss(id: number): void {
    const index = this.#entries.findIndex((entry) => entry.item.id === id);
    const entry = this.#entries[index];
    if (!entry || entry.item.status === 'queued' || entry.item.status === 'uploading') return;
    this.#entries.splice(index, 1);
    this.#changed();
  }

  /** Removes every upload that is done or cancelled (failed ones stay, so their reason stays visible). */
  clearFinished(): void {
    for (let i = this.#entries.length - 1; i >= 0; i -= 1) {
      const status = this.#entries[i]!.item.status;
      if (status === 'done' || status === 'cancelled') this.#entries.splice(i, 1);
    }
    this.#changed();
  }

  #pump(): void {
    let running = this.#entries.filter((entry) => entry.item.status === 'uploading').length;
    for (const entry of this.#entries) {
      if (running >= this.#concurrency) return;
      if (entry.item.status !== 'queued') continue;
      running += 1;
      this.#start(entry);
    }
  }

  #start(entry: Entry<S>): void {
    const { source, name } = entry.item;
    entry.meter.add(this.#now(), 0);
    this.#update(entry, { status: 'uploading' });
    const running = this.#transport({
      source,
      name,
      onProgress: (loaded) => {
        if (entry.running !== running) return;
        const now = this.#now();
        entry.meter.add(now, loaded);
        const total = entry.item.total;
        this.#update(entry, { loaded: Math.min(loaded, total), rate: entry.meter.rate(), eta: entry.meter.eta(total - loaded) });
      },
    });
    entry.running = running;
    running.done.then(
      (outcome) => this.#finish(entry, running, outcome),
      (error: unknown) => this.#finish(entry, running, { ok: false, status: 0, error: String(error) }),
    );
  }

  #finish(entry: Entry<S>, running: RunningUpload, outcome: UploadOutcome): void {
    // A cancelled or retried upload's late answer is not news.
    if (entry.running !== running) return;
    entry.running = null;
    if (outcome.ok) {
      this.#update(entry, { status: 'done', loaded: entry.item.total, rate: null, eta: 0 });
      this.#onStored(entry.item);
    } else {
      this.#update(entry, {
        status: 'failed',
        rate: null,
        eta: null,
        error: outcome.error,
        conflict: outcome.status === HTTP_CONFLICT,
      });
    }
    this.#pump();
  }

  #find(id: number): Entry<S> | undefined {
    return this.#entries.find((entry) => entry.item.id === id);
  }

  #update(entry: Entry<S>, change: Partial<UploadItem<S>>): void {
    entry.item = { ...entry.item, ...change };
    this.#changed();
  }

  #changed(): void {
    this.#onChange(this.items);
  }
}

function freshItem<S extends UploadSource>(id: number, source: S, name: string): UploadItem<S> {
  return {
    id,
    source,
    name,
    status: 'queued',
    loaded: 0,
    total: source.size,
    rate: null,
    eta: null,
    error: null,
    conflict: false,
  };
}
