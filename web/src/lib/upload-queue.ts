import { nextFreeName, type NameLookup, type NameStatus } from './name-check.js';
import { RateMeter } from './rate-meter.js';
import { freshItem, type RunningUpload, type UploadItem, type UploadOutcome, type UploadSource, type UploadStatus, type UploadTransport } from './upload-item.js';

export type { RunningUpload, UploadItem, UploadJob, UploadOutcome, UploadSource, UploadStatus, UploadTransport } from './upload-item.js';

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
  /**
   * Asks the server whether a name is taken before anything is sent; without it, uploads
   * start at once and only the server's 409 reveals a taken name.
   */
  lookup?: NameLookup;
  /** Names the page already knows are taken (its listing), skipped when suggesting one. */
  knownNames?: () => Iterable<string>;
  /**
   * Asked when an upload is refused with 401: resolves true when the sign-in is gone (the
   * upload then waits in the held queue and resumes after the next sign-in), false when the
   * page is still signed in (the upload fails). Without it, a 401 fails the upload.
   */
  signedOut?: () => Promise<boolean>;
}

/** HTTP status the gateway answers when the name is taken. */
export const HTTP_CONFLICT = 409;
/** HTTP status the gateway answers when nobody is signed in (the session ended, the token was revoked). */
export const HTTP_UNAUTHORIZED = 401;
/** Shown on queued uploads while the queue is held for the sign-in. */
export const SIGN_IN_NOTICE = 'Waits for the sign-in: goes on once you sign in again';
const DEFAULT_CONCURRENCY = 2;

interface Entry<S extends UploadSource> {
  item: UploadItem<S>;
  running: RunningUpload | null;
  meter: RateMeter;
  /** Bumped by cancel and retry, so the answer of a name check they overtook is dropped. */
  generation: number;
  /** Refused with 401 and waiting for the session check: not started, even when the queue is released. */
  parked: boolean;
  /**
   * The bytes stored when a 401 sent it back to the queue, null otherwise: refused again
   * before storing more, it fails (a 401 that is not about the session must not loop).
   */
  refusedAt: number | null;
}

const ACTIVE: ReadonlySet<UploadStatus> = new Set(['queued', 'checking', 'uploading']);
/** Without a lookup, a suggestion only avoids the names the page knows. */
const UNKNOWN_LOOKUP: NameLookup = async () => 'unknown';

/**
 * Runs uploads a few at a time with progress, rate, ETA, cancel and retry under another name.
 * With a `lookup`, each name is checked with the server first: a taken one is not sent at all
 * but offered as `name (1).ext` (or cancelled), as is one the server refuses with 409 anyway.
 */
export class UploadQueue<S extends UploadSource> {
  readonly #transport: UploadTransport<S>;
  readonly #concurrency: number;
  readonly #now: () => number;
  readonly #onChange: (items: UploadItem<S>[]) => void;
  readonly #onStored: (item: UploadItem<S>) => void;
  readonly #lookup: NameLookup | undefined;
  readonly #knownNames: () => Iterable<string>;
  readonly #signedOut: (() => Promise<boolean>) | undefined;
  readonly #entries: Entry<S>[] = [];
  #nextId = 1;
  #held = false;

  constructor(options: UploadQueueOptions<S>) {
    this.#transport = options.transport;
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#now = options.now ?? (() => performance.now());
    this.#onChange = options.onChange ?? (() => {});
    this.#onStored = options.onStored ?? (() => {});
    this.#lookup = options.lookup;
    this.#knownNames = options.knownNames ?? (() => []);
    this.#signedOut = options.signedOut;
  }

  /** Every upload of this page, oldest first. */
  get items(): UploadItem<S>[] {
    return this.#entries.map((entry) => entry.item);
  }

  /** Queues files for upload under their own names; returns their ids. */
  add(sources: readonly S[]): number[] {
    const ids = sources.map((source) => {
      const id = this.#nextId++;
      this.#entries.push({ item: freshItem(id, source, source.name), running: null, meter: new RateMeter(), generation: 0, parked: false, refusedAt: null });
      return id;
    });
    this.#changed();
    this.#startQueued();
    return ids;
  }

  /** Stops a queued, checking or running upload, or declines a conflict; the gateway drops whatever it had received. */
  cancel(id: number): void {
    const entry = this.#find(id);
    if (!entry || !(ACTIVE.has(entry.item.status) || entry.item.status === 'conflict')) return;
    const running = entry.running;
    entry.running = null;
    entry.generation += 1;
    this.#update(entry, { status: 'cancelled', rate: null, eta: null, suggestion: null, notice: null });
    running?.abort();
    this.#startQueued();
  }

  /** Queues a failed, cancelled or conflicting upload again, optionally under another name (checked again first). */
  retry(id: number, name?: string): void {
    const entry = this.#find(id);
    if (!entry || !['failed', 'cancelled', 'conflict'].includes(entry.item.status)) return;
    entry.meter = new RateMeter();
    entry.generation += 1;
    entry.refusedAt = null;
    entry.item = freshItem(id, entry.item.source, name ?? entry.item.name);
    this.#changed();
    this.#startQueued();
  }

  /** Removes a finished, failed or cancelled upload from the list. */
  dismiss(id: number): void {
    const index = this.#entries.findIndex((entry) => entry.item.id === id);
    const entry = this.#entries[index];
    if (!entry || ACTIVE.has(entry.item.status)) return;
    // Dismissing a conflict declines it, like cancel.
    entry.generation += 1;
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

  /**
   * Holds the queue while nobody is signed in: nothing new starts, queued uploads wait with
   * SIGN_IN_NOTICE; released, they start as usual. Running uploads are left alone (a refused
   * one comes back to the queue by itself).
   */
  hold(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    if (held) {
      this.#startQueued();
      return;
    }
    for (const entry of this.#entries) if (entry.item.status === 'queued' && !entry.parked) this.#update(entry, { notice: null });
    this.#startQueued();
  }

  /** Starts queued uploads (each with its name lookup first, when there is one) while fewer than the concurrency run; while held, marks them waiting. */
  #startQueued(): void {
    if (this.#held) {
      for (const entry of this.#entries) if (entry.item.status === 'queued' && entry.item.notice !== SIGN_IN_NOTICE) this.#update(entry, { notice: SIGN_IN_NOTICE });
      return;
    }
    let running = this.#entries.filter((entry) => entry.item.status === 'checking' || entry.item.status === 'uploading').length;
    for (const entry of this.#entries) {
      if (running >= this.#concurrency) return;
      if (entry.item.status !== 'queued' || entry.parked) continue;
      running += 1;
      if (this.#lookup) void this.#check(entry, this.#lookup);
      else this.#start(entry);
    }
  }

  /** Asks the server about the name before sending a byte: free (or unknown) uploads, taken offers another. */
  async #check(entry: Entry<S>, lookup: NameLookup): Promise<void> {
    const generation = entry.generation;
    const { name } = entry.item;
    this.#update(entry, { status: 'checking' });
    const known = this.#known(entry);
    // Another upload of this page is storing the name now: the server cannot know it yet.
    let status: NameStatus = this.#inFlight(entry).has(name) ? 'taken' : await lookup(name);
    // Otherwise the server is the authority; the listing (maybe stale) counts only when it cannot be asked.
    if (status === 'unknown' && known.has(name)) status = 'taken';
    if (status === 'taken') {
      const suggestion = await nextFreeName(name, known, lookup);
      if (entry.generation !== generation) return;
      this.#update(entry, { status: 'conflict', suggestion });
      this.#startQueued();
      return;
    }
    if (entry.generation !== generation) return;
    // Signed out while asking: it waits for the sign-in, queued, rather than be refused.
    if (this.#held) {
      this.#update(entry, { status: 'queued', notice: SIGN_IN_NOTICE });
      return;
    }
    this.#start(entry);
  }

  /** A 409 from the upload itself (the name was taken meanwhile): the same offer, with the server's words. */
  async #conflict(entry: Entry<S>, error: string): Promise<void> {
    const generation = entry.generation;
    const known = this.#known(entry);
    const suggestion = await nextFreeName(entry.item.name, known, this.#lookup ?? UNKNOWN_LOOKUP);
    if (entry.generation !== generation) return;
    this.#update(entry, { status: 'conflict', rate: null, eta: null, error, suggestion });
    this.#startQueued();
  }

  /**
   * A running upload refused with 401: back to the queue while the session is checked. Signed
   * out, it waits for the sign-in (the queue holds until then) and resumes where it stopped;
   * still signed in, the 401 was about something else and it fails with the server's words.
   * `entry.running` stays the stopped upload meanwhile, so cancelling it still drops its bytes on the server.
   */
  async #waitForSignIn(entry: Entry<S>, signedOut: () => Promise<boolean>, error: string): Promise<void> {
    const generation = entry.generation;
    entry.parked = true;
    entry.refusedAt = entry.item.loaded;
    this.#update(entry, { status: 'queued', rate: null, eta: null, notice: SIGN_IN_NOTICE });
    const lost = await signedOut().catch(() => false);
    if (entry.generation !== generation) return;
    entry.parked = false;
    if (lost) {
      this.hold(true);
      return;
    }
    entry.running = null;
    this.#update(entry, { status: 'failed', notice: null, error });
    this.#startQueued();
  }

  /** Names taken as far as this page knows: the listing, and what its other uploads are storing or stored. */
  #known(except: Entry<S>): Set<string> {
    const names = new Set([...this.#knownNames(), ...this.#inFlight(except)]);
    for (const entry of this.#entries) if (entry !== except && entry.item.status === 'done') names.add(entry.item.name);
    return names;
  }

  /** Names the page's other uploads are checking or sending right now. */
  #inFlight(except: Entry<S>): Set<string> {
    const names = new Set<string>();
    for (const entry of this.#entries) {
      const { status, name } = entry.item;
      if (entry !== except && (status === 'checking' || status === 'uploading')) names.add(name);
    }
    return names;
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
        // Stored more since the last refusal: a later 401 is news again.
        if (entry.refusedAt !== null && loaded > entry.refusedAt) entry.refusedAt = null;
        const now = this.#now();
        entry.meter.add(now, loaded);
        const total = entry.item.total;
        this.#update(entry, { loaded: Math.min(loaded, total), rate: entry.meter.rate(), eta: entry.meter.eta(total - loaded) });
      },
      onNotice: (notice) => {
        if (entry.running === running) this.#update(entry, { notice });
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
    if (!outcome.ok && outcome.status === HTTP_UNAUTHORIZED && this.#signedOut && entry.refusedAt === null) {
      void this.#waitForSignIn(entry, this.#signedOut, outcome.error);
      return;
    }
    entry.running = null;
    if (outcome.ok) {
      this.#update(entry, { status: 'done', notice: null, loaded: entry.item.total, rate: null, eta: 0 });
      this.#onStored(entry.item);
    } else if (outcome.status === HTTP_CONFLICT) {
      // Its slot stays taken for the moment the suggestion needs; #conflict frees it.
      void this.#conflict(entry, outcome.error);
      return;
    } else {
      this.#update(entry, { status: 'failed', rate: null, eta: null, notice: null, error: outcome.error });
    }
    this.#startQueued();
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
