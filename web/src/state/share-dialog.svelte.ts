import type { NewShareResponse, ShareEntry } from 'gateway/api';
import { messageOf } from '../lib/errors.js';
import { createShare, listShares, revokeShare } from '../lib/share-api.js';
import { shareRequest } from '../lib/share-form.js';

/**
 * The share dialog of one file: makes a link (shown once, to copy), and lists this user's
 * links, the file's own first, each with a way to revoke it. Refusals are the server's lines.
 */
export class ShareDialogState {
  #name = $state<string | null>(null);
  #links = $state.raw<readonly ShareEntry[]>([]);
  #created = $state.raw<NewShareResponse | null>(null);
  #error = $state<string | null>(null);
  #creating = $state(false);
  #revoking = $state<string | null>(null);

  /** The file being shared; null when the dialog is closed. */
  get name(): string | null {
    return this.#name;
  }

  /** The links this user may revoke, this file's first. */
  readonly links: ShareEntry[] = $derived(
    [...this.#links].sort((a, b) => Number(b.name === this.#name) - Number(a.name === this.#name)),
  );

  /** The link just made (its token is shown only now). */
  get created(): NewShareResponse | null {
    return this.#created;
  }

  /** Why the last step failed (a check here, or the server's refusal). */
  get error(): string | null {
    return this.#error;
  }

  get creating(): boolean {
    return this.#creating;
  }

  /** The id of the link being revoked. */
  get revoking(): string | null {
    return this.#revoking;
  }

  /** Opens the dialog for `name` and loads the existing links. */
  open(name: string): void {
    this.#name = name;
    this.#created = null;
    this.#error = null;
    void this.#load();
  }

  close(): void {
    this.#name = null;
    this.#created = null;
    this.#error = null;
  }

  /** Makes a link with the form's expiry ('' for never) and maximum downloads ('' for no limit). */
  async create(expiry: string, maxDownloads: string): Promise<void> {
    const name = this.#name;
    if (name === null || this.#creating) return;
    const checked = shareRequest(name, expiry, maxDownloads);
    if ('problem' in checked) {
      this.#error = checked.problem;
      return;
    }
    this.#creating = true;
    this.#error = null;
    try {
      const created = await createShare(checked.request);
      if (this.#name !== name) return;
      this.#created = created;
      this.#links = [created, ...this.#links.filter((link) => link.id !== created.id)];
    } catch (error) {
      if (this.#name === name) this.#error = messageOf(error);
    } finally {
      this.#creating = false;
    }
  }

  /** Revokes one link; it leaves the list once the server has agreed. */
  async revoke(id: string): Promise<void> {
    if (this.#revoking !== null) return;
    this.#revoking = id;
    this.#error = null;
    try {
      await revokeShare(id);
      this.#links = this.#links.filter((link) => link.id !== id);
      if (this.#created?.id === id) this.#created = null;
    } catch (error) {
      this.#error = messageOf(error);
    } finally {
      this.#revoking = null;
    }
  }

  async #load(): Promise<void> {
    const name = this.#name;
    try {
      const links = await listShares();
      if (this.#name === name) this.#links = links;
    } catch (error) {
      if (this.#name === name) this.#error = messageOf(error);
    }
  }
}
