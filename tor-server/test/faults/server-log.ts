import type { TorServerProcess } from 'test-support';

/** The client count in the spawned server's last connect/disconnect log line. */
export function loggedClients(server: TorServerProcess): number {
  const counts = [...server.stdout().matchAll(/ (?:connect|disconnect) client=\S+ clients=(\d+)/g)];
  return Number(counts.at(-1)?.[1] ?? 0);
}
