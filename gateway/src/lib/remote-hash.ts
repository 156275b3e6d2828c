import type { TransferPool } from './transfer-pool.js';

/**
 * The tor-server's sha256 of `name` (undefined when it has no such file), asked on a transfer
 * connection: reading a large file takes a while, and must not hold a connection of the shared
 * command pool that listings and lookups need. `signal` (the browser leaving) cuts the
 * connection, and the tor-server then stops reading the file.
 */
export async function remoteHash(transferPool: TransferPool, name: string, signal: AbortSignal, clientAddress: string): Promise<string | undefined> {
  const { client, result } = await transferPool.start(async (connection) => {
    const cut = () => transferPool.cut(connection);
    if (signal.aborted) cut();
    else signal.addEventListener('abort', cut, { once: true });
    try {
      return await connection.hash(name);
    } finally {
      signal.removeEventListener('abort', cut);
    }
  }, signal, undefined, clientAddress);
  transferPool.finish(client);
  return result;
}
