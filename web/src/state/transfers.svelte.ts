import { defaultOptions, type UrlStorage } from 'tus-js-client';
import { headLookup, type NameLookup } from '../lib/name-check.js';
import { UploadQueue, type UploadItem, type UploadTransport } from '../lib/upload-queue.js';
import { tusTransport } from '../lib/upload-tus.js';
import { discardUnfinished, findUnfinished, type UnfinishedUpload } from '../lib/upload-unfinished.js';

export type Transfer = UploadItem<File>;

export interface TransfersOptions {
  /** Called whenever a file has been stored on the server. */
  onStored?: () => void;
  /** The names in the page's listing, so a suggested name skips them. */
  knownNames?: () => Iterable<string>;
  transport?: UploadTransport<File>;
  /** How a name is checked before upload; the gateway's HEAD by default. */
  lookup?: NameLookup;
  /** Where unfinished uploads are remembered across reloads; tus-js-client's (localStorage) by default. */
  urlStorage?: UrlStorage;
  /** Whether the sign-in is gone, asked when an upload is refused with 401 (see UploadQueueOptions.signedOut). */
  signedOut?: () => Promise<boolean>;
}

/** The uploads of this page, as the transfer panel shows them. */
export class TransfersState {
  #items = $state.raw<Transfer[]>([]);
  #unfinished = $state.raw<UnfinishedUpload[]>([]);
  readonly #queue: UploadQueue<File>;
  readonly #urlStorage: UrlStorage;

  constructor(options: TransfersOptions = {}) {
    this.#urlStorage = options.urlStorage ?? defaultOptions.urlStorage;
    this.#queue = new UploadQueue<File>({
      transport: options.transport ?? tusTransport(),
      lookup: options.lookup ?? headLookup(),
      knownNames: options.knownNames,
      onChange: (items) => (this.#items = items),
      onStored: () => options.onStored?.(),
      signedOut: options.signedOut,
    });
  }

  get items(): Transfer[] {
    return this.#items;
  }

  /** Uploads an earlier visit left unfinished: picking the same file again resumes one. */
  get unfinished(): UnfinishedUpload[] {
    return this.#unfinished;
  }

  /** Looks up the uploads earlier visits left unfinished (once, when the page opens). */
  async loadUnfinished(): Promise<void> {
    const found = await findUnfinished(this.#urlStorage).catch(() => []);
    // Files picked meanwhile have taken over theirs.
    const picked = new Set(this.#items.map((item) => sameFileKey(item.name, item.total)));
    this.#unfinished = found.filter((upload) => !picked.has(sameFileKey(upload.name, upload.size)));
  }

  /** Throws an unfinished upload away, on the server too. */
  async discard(key: string): Promise<void> {
    const upload = this.#unfinished.find((candidate) => candidate.key === key);
    if (!upload) return;
    this.#unfinished = this.#unfinished.filter((candidate) => candidate !== upload);
    await discardUnfinished(this.#urlStorage, upload);
  }

  readonly active: number = $derived(
    this.#items.filter((item) => item.status === 'queued' || item.status === 'checking' || item.status === 'uploading').length,
  );
  readonly done: number = $derived(this.#items.filter((item) => item.status === 'done').length);
  readonly failed: number = $derived(this.#items.filter((item) => item.status === 'failed').length);
  /** Uploads waiting for the user to choose another name or cancel. */
  readonly conflicts: number = $derived(this.#items.filter((item) => item.status === 'conflict').length);

  /** Starts uploading files (from the picker or a drop). */
  add(files: Iterable<File>): void {
    const list = [...files];
    if (list.length === 0) return;
    // The same file picked again resumes its unfinished upload, which now shows as a transfer.
    const picked = new Set(list.map((file) => sameFileKey(file.name, file.size)));
    this.#unfinished = this.#unfinished.filter((upload) => !picked.has(sameFileKey(upload.name, upload.size)));
    this.#queue.add(list);
  }

  /** Holds the uploads not yet started while nobody is signed in; released, they go on. */
  hold(held: boolean): void {
    this.#queue.hold(held);
  }

  cancel(id: number): void {
    this.#queue.cancel(id);
  }

  retry(id: number, name?: string): void {
    this.#queue.retry(id, name);
  }

  dismiss(id: number): void {
    this.#queue.dismiss(id);
  }

  clearFinished(): void {
    this.#queue.clearFinished();
  }
}

function sameFileKey(name: string, size: number): string {
  return `${size}/${name}`;
}
