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
  return errorBodyMessage(body) ?? `Upload failed (HTTP ${status})`;
}
