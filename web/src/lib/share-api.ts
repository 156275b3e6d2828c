/**
 * Share links over HTTP: this user's links (`/api/shares`), and the one file a link opens
 * (`/api/s/<token>`), which needs no sign-in.
 */
import { ApiPath, sharedFilePath, type NewShareResponse, type SharedFileResponse, type ShareEntry, type ShareRequest } from 'gateway/api';
import { call, jsonBody, type ActionTarget } from './http.js';

/** The share links this session may see and revoke. */
export async function listShares(target: ActionTarget = {}): Promise<ShareEntry[]> {
  const response = await call(target, ApiPath.shares, {}, 'Listing the share links');
  return (await response.json()) as ShareEntry[];
}

/** Creates a link (its token and path are shown once). */
export async function createShare(request: ShareRequest, target: ActionTarget = {}): Promise<NewShareResponse> {
  const response = await call(target, ApiPath.shares, { method: 'POST', ...jsonBody(request) }, `Sharing “${request.name}”`);
  return (await response.json()) as NewShareResponse;
}

/** Revokes one link by id. */
export async function revokeShare(id: string, target: ActionTarget = {}): Promise<void> {
  await call(target, ApiPath.share.replace(':id', encodeURIComponent(id)), { method: 'DELETE' }, 'Revoking the link');
}

/** The file a share link opens; throws the server's refusal (used up, expired, unknown) as is. */
export async function fetchSharedFile(token: string, target: ActionTarget = {}): Promise<SharedFileResponse> {
  const response = await call(target, sharedFilePath(token), {}, 'Opening the link', false);
  return (await response.json()) as SharedFileResponse;
}
