import { headLookup, type NameLookup } from '../lib/name-check.js';
import { UploadQueue, type UploadItem, type UploadTransport } from '../lib/upload-queue.js';
import { xhrUpload } from '../lib/upload-transport.js';

export type Transfer = UploadItem<File>;

export interface TransfersOptions {
  /** Called whenever a file has been stored on the server. */
  onStored?: () => void;
  /** The names in the page's listing, so a suggested name skips them. */
  knownNames?: () => Iterable<string>;
  transport?: UploadTransport<File>;
  /** How a name is checked before upload; the gateway's HEAD by default. */
  lookup?: NameLookup;
}

/** The uploads of this page, as the transfer panel shows them. */
export class TransfersState {
  #items = $state.raw<Transfer[]>([]);
  readonly #queue: UploadQueue<File>;

  constructor(options: TransfersOptions = {}) {
    this.#queue = new UploadQueue<File>({
      transport: options.transport ?? xhrUpload,
      lookup: options.lookup ?? headLookup(),
      knownNames: options.knownNames,
      onChange: (items) => (this.#items = items),
      onStored: () => options.onStored?.(),
    });
  }

  get items(): Transfer[] {
    return this.#items;
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
    if (list.length > 0) this.#queue.add(list);
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
