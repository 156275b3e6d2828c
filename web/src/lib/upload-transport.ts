import type { UploadResponse } from 'gateway/api';
import { errorBodyMessage, GATEWAY_UNREACHABLE } from './errors.js';

/** The message to show for a refused upload: the server's own words where the body has them. */
export function uploadErrorMessage(status: number, body: string): string {
  if (status === 0) return GATEWAY_UNREACHABLE;
  try {
    const refused = (JSON.parse(body) as Partial<UploadResponse> | null)?.files?.find((file) => !file.ok && file.error);
    if (refused?.error) return refused.error;
  } catch {
    // Not JSON: the status says it.
  }
  return errorBodyMessage(body) ?? WITHOUT_BODY[status] ?? `Upload failed (HTTP ${status})`;
}

// A refused HEAD (resuming an upload) carries no body: its status has to say it.
const WITHOUT_BODY: Record<number, string> = {
  401: 'Your session has ended: sign in again, then retry (the upload goes on from what is stored)',
  403: 'Permission denied: this session may not upload',
  429: 'Too many sign-ins at once: retry in a moment',
};
