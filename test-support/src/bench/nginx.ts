/** nginx from Debian as an outside reference: serving files (sendfile), accepting PUTs (dav), relaying. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { START_MS, stopChild } from '../processes.js';
import { accepts, freePort } from '../ports.js';
import type { Owner } from '../scope.js';
import { eventually } from '../wait.js';

export const NGINX = '/usr/sbin/nginx';
/** What a bench says when the reference is missing. */
export const NGINX_MISSING = 'nginx not installed: apt-get install nginx';
/** Requests one kept-alive connection may make: a load generator's connections must not be closed under it (nginx's default is 1000). */
const KEEPALIVE_REQUESTS = 1_000_000;

/** True when Debian's nginx (with its dav module) is there to measure against. */
export function nginxInstalled(): boolean {
  return existsSync(NGINX);
}

/** "nginx/1.22.1": what `nginx -v` says, for a table's footnote. */
export function nginxVersion(): string {
  const { stderr } = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return /nginx\/[\d.]+/.exec(stderr)?.[0] ?? 'nginx (version unknown)';
}

/** An nginx (one worker, the gateway's layout) serving `root` for GET with sendfile; resolves with its port. `prefix` is a new folder for its config and temp files. */
export function nginxServing(owner: Owner, prefix: string, root: string): Promise<number> {
  return runNginx(owner, prefix, `root ${root};`);
}

/**
 * An nginx storing `PUT /<name>` bodies in `root` (dav, no size limit). `prefix` must be on the
 * same file system as `root`, so the body's temp file is renamed into place, not copied.
 */
export function nginxAcceptingPuts(owner: Owner, prefix: string, root: string): Promise<number> {
  return runNginx(owner, prefix, `root ${root}; location / { dav_methods PUT; client_max_body_size 0; }`);
}

/** An nginx relaying 127.0.0.1:`upstreamPort` unbuffered, with socket-sized reads: it relays as it receives, like the gateway. */
export function nginxRelaying(owner: Owner, prefix: string, upstreamPort: number): Promise<number> {
  return runNginx(
    owner,
    prefix,
    `location / { proxy_pass http://127.0.0.1:${upstreamPort}; proxy_buffering off; proxy_buffer_size 64k; proxy_buffers 4 64k; proxy_busy_buffers_size 128k; }`,
  );
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
  keepalive_requests ${KEEPALIVE_REQUESTS};
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
