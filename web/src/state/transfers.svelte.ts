import { alternativeName } from '../lib/file-names.js';
import { UploadQueue, type UploadItem, type UploadTransport } from '../lib/upload-queue.js';
import { xhrUpload } from '../lib/upload-transport.js';

export type Transfer = UploadItem<File>;

export interface TransfersOptions {
  /** Called whenever a file has been stored on the server. */
  onStored?: () => void;
  transport?: UploadTransport<File>;
}

/** The uploads of this page, as the transfer panel shows them. */
export class TransfersState {
  #items = $state.raw<Transfer[]>([]);
  readonly #queue: UploadQueue<File>;

  constructor(options: TransfersOptions = {}) {
    this.#queue = new UploadQueue<File>({
      transport: options.transport ?? xhrUpload,
      onChange: (items) => (this.#items = items),
      onStored: () => options.onStored?.(),
    });
  }

  get items(): Transfer[] {
    return this.#items;
  }

  readonly active: number = $derived(
    this.#items.filter((item) => item.status === 'queued' || item.status === 'uploading').length,
  );
  readonly done: number = $derived(this.#items.filter((item) => item.status === 'done').length);
  readonly failed: number = $derived(this.#items.filter((item) => item.status === 'failed').length);

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

  /** The name to offer after a conflict: `name (1).ext`, skipping names known to be taken. */
  suggestName(item: Transfer, taken: Iterable<string>): string {
    const names = new Set(taken);
    // Names this page is uploading or has stored may not be in the listing yet.
    for (const other of this.#items) names.add(other.name);
    return alternativeName(item.name, names);
  }
}
