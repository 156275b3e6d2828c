/**
 * The HTTP calls behind the file actions: delete, rename, sha256. Each resolves with the answer
 * or throws a WebError whose message is the server's own line (`Permission denied: ...`,
 * `File already exists: ...`), ready to show.
 */
import { HASH_ALGORITHM, HttpStatus, QueryField, filePath, type FileEntry, type HashResponse, type RenameRequest } from 'gateway/api';
import { WebError } from './errors.js';
import { call, jsonBody, type ActionTarget } from './http.js';

export type { ActionTarget } from './http.js';

/** Deletes one file (`DELETE /api/files/<name>`). */
export async function deleteFile(name: string, target: ActionTarget = {}): Promise<void> {
  await call(target, filePath(name), { method: 'DELETE' }, `Deleting “${name}”`);
}

/** Renames a file (`PATCH /api/files/<from>`); resolves with its row under the new name. The server never overwrites. */
export async function renameFile(from: string, to: string, target: ActionTarget = {}): Promise<FileEntry> {
  const body: RenameRequest = { name: to };
  const response = await call(target, filePath(from), { method: 'PATCH', ...jsonBody(body) }, `Renaming “${from}”`);
  return (await response.json()) as FileEntry;
}

/** The file's SHA-256 as the tor-server computes it, in lower-case hex. */
export async function fileSha256(name: string, target: ActionTarget = {}): Promise<string> {
  const response = await call(target, `${filePath(name)}?${QueryField.hash}=${HASH_ALGORITHM}`, {}, `Hashing “${name}”`);
  return ((await response.json()) as HashResponse)[HASH_ALGORITHM];
}

/** Whether an action was refused because the file is not there (any more). */
export function isNotFound(error: unknown): boolean {
  return error instanceof WebError && error.status === HttpStatus.NOT_FOUND;
}
