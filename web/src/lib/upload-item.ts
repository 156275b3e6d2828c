/** The items of the upload queue, and what it asks of a transport. */

/** What an upload needs from a file: a File satisfies it. */
export interface UploadSource {
  readonly name: string;
  readonly size: number;
}

/**
 * `checking`: asking the server whether the name is free, before a byte is sent.
 * `conflict`: the name is taken; waiting for the user to take `suggestion` or cancel.
 */
export type UploadStatus = 'queued' | 'checking' | 'uploading' | 'conflict' | 'done' | 'failed' | 'cancelled';

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
  /** Why it failed: the server's own message where there is one (also for a 409 conflict). */
  readonly error: string | null;
  /** In `conflict`: the free name to offer instead, checked with the server like the first. */
  readonly suggestion: string | null;
  /** Why it is waiting: while uploading, for the network (offline); while queued, for the sign-in. Null otherwise. */
  readonly notice: string | null;
}

/** How one upload ended: `status` is the HTTP status, 0 when the request never got an answer. */
export type UploadOutcome = { ok: true } | { ok: false; status: number; error: string };

export interface UploadJob<S> {
  source: S;
  name: string;
  /** Called with the bytes sent so far. */
  onProgress(loaded: number): void;
  /** Called with why the upload waits (the browser is offline), and with null when it goes on. */
  onNotice?(notice: string | null): void;
}

export interface RunningUpload {
  done: Promise<UploadOutcome>;
  abort(): void;
}

/** Sends one file; the browser's is XMLHttpRequest-based (upload-transport.ts). */
export type UploadTransport<S> = (job: UploadJob<S>) => RunningUpload;

/** A new upload of `source` under `name`, waiting its turn. */
export function freshItem<S extends UploadSource>(id: number, source: S, name: string): UploadItem<S> {
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
    suggestion: null,
    notice: null,
  };
}
