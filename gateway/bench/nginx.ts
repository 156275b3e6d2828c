/** nginx as an outside reference: serving the benchmark file, and relaying it. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { START_MS, accepts, eventually, freePort, stopChild, type Owner } from 'test-support';

export const NGINX = '/usr/sbin/nginx';

/** An nginx serving `root`, and a second one relaying it (one worker each: the gateway's layout). */
export async function startNginx(owner: Owner, work: string, root: string): Promise<{ filePort: number; relayPort: number }> {
  const filePort = await runNginx(owner, path.join(work, 'nginx-file'), `root ${root};`);
  // Unbuffered, with socket-sized reads: nginx relays as it receives, like the gateway.
  const relayPort = await runNginx(owner, path.join(work, 'nginx-relay'), `location / { proxy_pass http://127.0.0.1:${filePort}; proxy_buffering off; proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 128k; }`);
  return { filePort, relayPort };
}

/** nginx in the foreground with a throwaway config holding one server block; resolves with its port. */
async function runNginx(owner: Owner, prefix: string, server: string): Promise<number> {
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
  // SIGTERM: the master then takes its workers down with it.
  owner.after(() => stopChild(child));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${await fs.readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '')}`);
      return accepts(port);
    },
    'nginx to accept connections',
    START_MS,
  );
  return port;
}
