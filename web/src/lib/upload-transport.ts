import { ApiPath, FormField, type UploadResponse } from 'gateway/api';
import { errorBodyMessage, GATEWAY_UNREACHABLE } from './errors.js';
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
  if (status === 0) return GATEWAY_UNREACHABLE;
  try {
    const refused = (JSON.parse(body) as Partial<UploadResponse> | null)?.files?.find((file) => !file.ok && file.error);
    if (refused?.error) return refused.error;
  } catch {
    // Not JSON: the status says it.
  }
  return errorBodyMessage(body) ?? `Upload failed (HTTP ${status})`;
}
