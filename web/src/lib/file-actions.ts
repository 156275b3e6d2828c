/**
 * The HTTP calls behind the file actions: delete, rename, sha256, and the session's access
 * level. Each resolves with the answer or throws a WebError whose message is the server's own
 * line (`Permission denied: ...`, `File already exists: ...`), ready to show.
 */
import {
  ApiPath,
  HASH_ALGORITHM,
  HttpStatus,
  QueryField,
  filePath,
  type AccessLevel,
  type FileEntry,
  type HashResponse,
  type RenameRequest,
  type SessionResponse,
} from 'gateway/api';
import { errorBodyMessage, GATEWAY_UNREACHABLE, WebError, WebErrorCode } from './errors.js';

/** What each action waits for at most; the server may be slow, but the page must not hang. */
export const ACTION_TIMEOUT_MS = 30_000;

/** Where the calls go: the page's own gateway, or `base` in tests outside a page. */
export interface ActionTarget {
  fetch?: typeof fetch;
  base?: string;
}

async function call(target: ActionTarget, path: string, init: RequestInit, what: string): Promise<Response> {
  const fetchFn = target.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(`${target.base ?? ''}${path}`, { cache: 'no-store', signal: AbortSignal.timeout(ACTION_TIMEOUT_MS), ...init });
  } catch {
    throw new WebError(WebErrorCode.HTTP_UNREACHABLE, GATEWAY_UNREACHABLE);
  }
  if (response.ok) return response;
  const message = errorBodyMessage(await response.text().catch(() => '')) ?? `${what} failed (HTTP ${response.status})`;
  throw new WebError(WebErrorCode.HTTP_REFUSED, message, response.status);
}

/** Deletes one file (`DELETE /api/files/<name>`). */
export async function deleteFile(name: string, target: ActionTarget = {}): Promise<void> {
  await call(target, filePath(name), { method: 'DELETE' }, `Deleting “${name}”`);
}

/** Renames a file (`PATCH /api/files/<from>`); resolves with its row under the new name. The server never overwrites. */
export async function renameFile(from: string, to: string, target: ActionTarget = {}): Promise<FileEntry> {
  const body: RenameRequest = { name: to };
  const response = await call(
    target,
    filePath(from),
    { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    `Renaming “${from}”`,
  );
  return (await response.json()) as FileEntry;
}

/** The file's SHA-256 as the tor-server computes it, in lower-case hex. */
export async function fileSha256(name: string, target: ActionTarget = {}): Promise<string> {
  const response = await call(target, `${filePath(name)}?${QueryField.hash}=${HASH_ALGORITHM}`, {}, `Hashing “${name}”`);
  return ((await response.json()) as HashResponse)[HASH_ALGORITHM];
}

/** What the tor-server lets this page do (`GET /api/session`). */
export async function sessionAccess(target: ActionTarget = {}): Promise<AccessLevel> {
  const response = await call(target, ApiPath.session, {}, 'Asking for the access level');
  return ((await response.json()) as SessionResponse).access;
}

/** Whether an action was refused because the file is not there (any more). */
export function isNotFound(error: unknown): boolean {
  return error instanceof WebError && error.status === HttpStatus.NOT_FOUND;
}
