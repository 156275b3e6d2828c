import type { FileEntry } from 'gateway/api';
import { messageOf } from '../lib/errors.js';
import { deleteFile, isNotFound, renameFile } from '../lib/file-actions.js';
import { headLookup, type NameLookup } from '../lib/name-check.js';
import { checkRename } from '../lib/rename-check.js';
import type { FileListState } from './files.svelte.js';
import type { SelectionState } from './selection.svelte.js';

/**
 * Delete (after a confirmation naming the files) and inline rename. A success shows in the
 * list at once; the change's own event then finds it applied. A refusal is the server's line.
 */
export class FileActionsState {
  readonly #files: FileListState;
  readonly #selection: SelectionState;
  readonly #lookup: NameLookup;
  #confirming = $state.raw<string[] | null>(null);
  #deleting = $state(false);
  #message = $state<string | null>(null);
  #renaming = $state<string | null>(null);
  #renameError = $state<string | null>(null);
  #saving = $state(false);

  constructor(files: FileListState, selection: SelectionState, lookup: NameLookup = headLookup()) {
    this.#files = files;
    this.#selection = selection;
    this.#lookup = lookup;
  }

  /** The files the confirmation dialog asks about; null when it is closed. */
  get confirming(): string[] | null {
    return this.#confirming;
  }

  /** True while the confirmed deletes run. */
  get deleting(): boolean {
    return this.#deleting;
  }

  /** Why the last delete failed (the server's words); null when it did not. */
  get message(): string | null {
    return this.#message;
  }

  /** The file whose name is being edited. */
  get renaming(): string | null {
    return this.#renaming;
  }

  /** Why the typed name cannot be used (a check here, or the server's refusal). */
  get renameError(): string | null {
    return this.#renameError;
  }

  /** True while a rename is being checked and sent. */
  get saving(): boolean {
    return this.#saving;
  }

  /** Opens the confirmation for `names`. */
  askDelete(names: string[]): void {
    if (names.length > 0) this.#confirming = names;
  }

  cancelDelete(): void {
    if (!this.#deleting) this.#confirming = null;
  }

  /** Deletes the confirmed files one after another; a file already gone counts as deleted. */
  async confirmDelete(): Promise<void> {
    const names = this.#confirming;
    if (!names || this.#deleting) return;
    this.#deleting = true;
    this.#message = null;
    const failures: string[] = [];
    for (const name of names) {
      try {
        await deleteFile(name);
      } catch (error) {
        if (!isNotFound(error)) {
          failures.push(messageOf(error));
          continue;
        }
      }
      this.#files.applyOwn({ type: 'removed', seq: 0, name });
      this.#selection.clear([name]);
    }
    this.#deleting = false;
    this.#confirming = null;
    if (failures.length === 0) return;
    this.#message =
      names.length === 1 ? failures[0]! : `${failures.length} of ${names.length} files were not deleted: ${failures[0]}`;
  }

  dismissMessage(): void {
    this.#message = null;
  }

  /** Turns the name of `name`'s row into a text field. */
  startRename(name: string): void {
    this.#renaming = name;
    this.#renameError = null;
  }

  cancelRename(): void {
    if (this.#saving) return;
    this.#renaming = null;
    this.#renameError = null;
  }

  /** Checks and sends the typed name; the field stays open with the reason when it is refused. */
  async saveRename(from: string, to: string): Promise<void> {
    if (this.#saving) return;
    this.#saving = true;
    this.#renameError = null;
    try {
      const listed = new Set(this.#files.files.map((file) => file.name));
      const check = await checkRename(from, to, listed, this.#lookup);
      if (check.verdict === 'refused') {
        this.#renameError = check.message;
        return;
      }
      if (check.verdict === 'send') this.#showRenamed(from, await renameFile(from, check.name));
      this.#renaming = null;
    } catch (error) {
      this.#renameError = messageOf(error);
    } finally {
      this.#saving = false;
    }
  }

  #showRenamed(from: string, file: FileEntry): void {
    this.#files.applyOwn({ type: 'renamed', seq: 0, from, to: file.name, file });
    this.#selection.clear([from]);
  }
}
