import net from 'node:net';

/**
 * Connects `client` to a new connection to 127.0.0.1:`port`, the two kept in `live` while open:
 * either one closing (or failing) closes both, as a relay whose one side went away must. Moves
 * no byte: the caller decides how they flow. Returns the new connection.
 */
export function pairWith(client: net.Socket, port: number, live: Set<net.Socket>): net.Socket {
  const target = net.connect(port, '127.0.0.1');
  for (const socket of [client, target]) {
    live.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => {
      live.delete(socket);
      client.destroy();
      target.destroy();
    });
  }
  return target;
}
