import { ApiPath, FormField, type ErrorResponse, type UploadResponse } from 'gateway/api';
import type { RunningUpload, UploadJob, UploadOutcome } from './upload-queue.js';

/** Where uploads go (multipart, a `size` field right before each file part). */
export const UPLOAD_URL = ApiPath.files;

/**
 * Sends one file as `POST /api/files` with XMLHttpRequest, which (unlike fetch) reports
 * upload progress; abort() cancels it and the gateway discards the partial file.
 */
export function xhrUpload(job: UploadJob<File>): RunningUpload {
  const request = new XMLHttpRequest();
  const form = new FormData();
  // The gateway streams each part into TFTCP, which needs the size before the bytes.
  form.append(FormField.size, String(job.source.size));
  form.append(FormField.file, job.source, job.name);
  const done = new Promise<UploadOutcome>((resolve) => {
    request.upload.onprogress = (event) => job.onProgress(event.loaded);
    request.onload = () => {
      const ok = request.status >= 200 && request.status < 300;
      resolve(ok ? { ok: true } : { ok: false, status: request.status, error: uploadErrorMessage(request.status, request.responseText) });
    };
    request.onerror = () => resolve({ ok: false, status: 0, error: uploadErrorMessage(0, '') });
    request.onabort = () => resolve({ ok: false, status: 0, error: 'Cancelled' });
  });
  request.open('POST', UPLOAD_URL);
  request.send(form);
  return { done, abort: () => request.abort() };
}

/** The message to show for a refused upload: the server's own words where the body has them. */
export function uploadErrorMessage(status: number, body: string): string {
  if (status === 0) return 'The gateway could not be reached; check the connection and try again';
  try {
    const parsed = JSON.parse(body) as Partial<UploadResponse & ErrorResponse> & { message?: unknown };
    const refused = parsed.files?.find((file) => !file.ok && file.error);
    if (refused?.error) return refused.error;
    if (typeof parsed.error === 'string' && parsed.error) return parsed.error;
    if (typeof parsed.message === 'string' && parsed.message) return parsed.message;
  } catch {
    // Not JSON (a proxy's error page): fall through to the status.
  }
  return `Upload failed (HTTP ${status})`;
}
