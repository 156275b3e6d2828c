import { DefaultHttpStack, Upload, type DetailedError, type HttpRequest, type HttpResponse } from 'tus-js-client';
import { ApiPath, HttpStatus, TUS_CHECKSUM_MISMATCH_STATUS, TUS_CHUNK_BYTES, TUS_NAME_TAKEN, TusHeader } from 'gateway/api';
import { errorBodyMessage } from './errors.js';
import { reportRefusal } from './http.js';
import { HeadRefusedError, UploadHttpStack } from './upload-http-stack.js';
import type { RunningUpload, UploadJob, UploadOutcome } from './upload-queue.js';
import { uploadErrorMessage } from './upload-transport.js';

/** Where tus uploads are created. */
export const TUS_ENDPOINT = ApiPath.uploads;

/**
 * Waits between tries after a failed request (a dropped link, a gateway restarting): about ten
 * minutes in all, then the upload shows as failed and Retry resumes it where the server stands.
 */
export const RETRY_DELAYS_MS = [0, 1000, 2000, 4000, 8000, 15_000, 30_000, 30_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000, 60_000];

/** Shown while the browser is offline: the upload resumes by itself when the link is back. */
export const OFFLINE_NOTICE = 'Offline: resumes when the network is back';

/** What the transport needs from the browser's network state; the page's `navigator` and `window` by default. */
export interface NetworkState {
  online(): boolean;
  /** Calls `listener` once when the browser is online again; returns a function that stops waiting. */
  whenOnline(listener: () => void): () => void;
}

const browserNetwork: NetworkState = {
  online: () => navigator.onLine,
  whenOnline(listener) {
    window.addEventListener('online', listener, { once: true });
    return () => window.removeEventListener('online', listener);
  },
};

/**
 * The key an unfinished upload is remembered under in localStorage (tus-js-client's URL
 * storage): the name it is stored as and the file's size and modification time, so the same
 * file picked again after a reload resumes, and another file of that name starts afresh.
 */
export function uploadFingerprint(name: string, file: { size: number; lastModified: number }): string {
  return JSON.stringify(['tor-file-transfer', name, file.size, file.lastModified]);
}

/**
 * Whether a failed request is tried again: a lost connection and 5xx (a gateway or tor-server
 * restarting), a PATCH at a stale offset (409: HEAD tells the right one), a chunk damaged on
 * the way (460: it is read from the file again). Not while offline (the `online` event resumes
 * it then), and not a refusal (a taken name, also one taken before the last PATCH committed
 * the file: the queue offers another name; too large, no permission). `body` is the answer's.
 */
export function shouldRetry(status: number, method: string | undefined, online: boolean, body = ''): boolean {
  if (!online) return false;
  if (status === 0 || status >= 500) return true;
  if (status === HttpStatus.CONFLICT) return method === 'PATCH' && !errorBodyMessage(body)?.startsWith(TUS_NAME_TAKEN);
  return status === TUS_CHECKSUM_MISMATCH_STATUS;
}

export interface TusTransportOptions {
  endpoint?: string;
  chunkSize?: number;
  retryDelays?: number[];
  network?: NetworkState;
}

/**
 * Uploads a File with tus through the gateway: chunks of TUS_CHUNK_BYTES, each with its
 * sha256; cut by a dropped link or a gateway restart it resumes by itself (retries, and the
 * `online` event), and after a reload the same file picked again resumes where the server
 * stands. Progress counts the bytes the gateway acknowledged. Cancel terminates the upload
 * (DELETE): the server throws its bytes away.
 */
export function tusTransport(options: TusTransportOptions = {}): (job: UploadJob<File>) => RunningUpload {
  const endpoint = options.endpoint ?? TUS_ENDPOINT;
  const network = options.network ?? browserNetwork;
  return (job) => {
    let cancelled = false;
    let stopWaiting = () => {};
    let upload!: Upload;
    const done = new Promise<UploadOutcome>((resolve) => {
      upload = new Upload(job.source, {
        endpoint,
        chunkSize: options.chunkSize ?? TUS_CHUNK_BYTES,
        retryDelays: options.retryDelays ?? RETRY_DELAYS_MS,
        metadata: { filename: job.name, filetype: job.source.type },
        fingerprint: async (file) => uploadFingerprint(job.name, file),
        // A small file is one request: the POST carries it.
        uploadDataDuringCreation: true,
        removeFingerprintOnSuccess: true,
        httpStack: new UploadHttpStack(new DefaultHttpStack({})),
        onAfterResponse: (_request: HttpRequest, response: HttpResponse) => {
          const offset = Number(response.getHeader(TusHeader.uploadOffset));
          // Every offset the gateway tells is stored on the tor-server: progress counts only those.
          if (response.getStatus() < 300 && Number.isSafeInteger(offset)) job.onProgress(offset);
        },
        onShouldRetry: (error: DetailedError) => shouldRetry(statusOf(error), error.originalRequest?.getMethod(), network.online(), bodyOf(error)),
        onSuccess: () => resolve({ ok: true }),
        onError: (error) => {
          if (cancelled) return;
          if (!network.online()) {
            job.onNotice?.(OFFLINE_NOTICE);
            stopWaiting = network.whenOnline(() => {
              job.onNotice?.(null);
              upload.start();
            });
            return;
          }
          const outcome = outcomeOf(error);
          // A session that ended (401) or a level taken away (403): the page asks who the user is again.
          if (!outcome.ok) reportRefusal(outcome.status);
          resolve(outcome);
        },
      });
      void upload
        .findPreviousUploads()
        .then((previous) => {
          if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        })
        .catch(() => {})
        .then(() => {
          if (!cancelled) upload.start();
        });
    });
    return {
      done,
      abort: () => {
        cancelled = true;
        stopWaiting();
        // Terminates it on the server too (with retries), and forgets it here.
        void upload.abort(true).catch(() => {});
      },
    };
  };
}

function outcomeOf(error: Error | DetailedError): UploadOutcome {
  const status = statusOf(error);
  return { ok: false, status, error: uploadErrorMessage(status, bodyOf(error)) };
}

/** The HTTP status a failed tus request got (a refused HEAD's too); 0 for a lost connection. */
function statusOf(error: Error | DetailedError): number {
  if ('originalResponse' in error && error.originalResponse) return error.originalResponse.getStatus();
  const cause = 'causingError' in error ? error.causingError : undefined;
  return cause instanceof HeadRefusedError ? cause.status : 0;
}

/** The body of that answer ('' when there was none, as for any HEAD). */
function bodyOf(error: Error | DetailedError): string {
  return ('originalResponse' in error && error.originalResponse?.getBody()) || '';
}
