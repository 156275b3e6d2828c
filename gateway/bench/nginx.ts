/** nginx as an outside reference: serving the benchmark file, and relaying it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export const NGINX = '/usr/sbin/nginx';

/** An nginx serving `root`, and a second one relaying it (one worker each: the gateway's layout). */
export async function startNginx(children: ChildProcess[], work: string, root: string): Promise<{ filePort: number; relayPort: number }> {
  const filePort = await runNginx(children, path.join(work, 'nginx-file'), `root ${root};`);
  // Unbuffered, with socket-sized reads: nginx relays as it receives, like the gateway.
  const relayPort = await runNginx(children, path.join(work, 'nginx-relay'), `location / { proxy_pass http://127.0.0.1:${filePort}; proxy_buffering off; proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 128k; }`);
  return { filePort, relayPort };
}

/** nginx in the foreground with a throwaway config holding one server block; resolves with its port. */
async function runNginx(children: ChildProcess[], prefix: string, server: string): Promise<number> {
  await fs.mkdir(prefix);
  const port = await freePort();
  const temp = (name: string) => `${name} ${path.join(prefix, name)};`;
  const config = `
daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')} ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  server { listen 127.0.0.1:${port}; ${server} }
}
`;
  const configFile = path.join(prefix, 'nginx.conf');
  await fs.writeFile(configFile, config);
  const child = spawn(NGINX, ['-p', prefix, '-c', configFile, '-e', path.join(prefix, 'error.log')], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${await fs.readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return port;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
