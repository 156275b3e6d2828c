import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../api/index.js';
import { GatewayError } from '../errors.js';

export interface StaticRoutesOptions {
  /** The built web app (web/dist): index.html and hashed files under assets/. */
  webDir: string;
}

const INDEX = 'index.html';
/** Vite puts content-hashed files here: they never change under their name. */
const HASHED_DIR = 'assets';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the built web app: files from webDir, index.html for app routes (paths without a
 * file extension), and a 503 that says how to build the app when it has not been built.
 * Unknown /api paths stay JSON 404s.
 */
export const staticRoutes: FastifyPluginAsync<StaticRoutesOptions> = async (app, { webDir }) => {
  const root = path.resolve(webDir);
  const hashedDir = path.join(root, HASHED_DIR) + path.sep;

  await app.register(fastifyStatic, {
    root,
    // Files are looked up per request, so building the app while the gateway runs just works.
    wildcard: true,
    index: false,
    dotfiles: 'ignore',
    cacheControl: false,
    suppressWarning: true,
    setHeaders(reply, filePath) {
      reply.header('cache-control', filePath.startsWith(hashedDir) ? IMMUTABLE : 'no-cache');
    },
  });

  const sendApp = (reply: FastifyReply) => {
    if (!existsSync(path.join(root, INDEX))) {
      return reply.send(new GatewayError('GW_ERR_WEB_APP_MISSING', `the web app is not built (no ${INDEX} in ${root}); run \`npm run build -w web\`, then reload`));
    }
    return reply.sendFile(INDEX);
  };

  app.get('/', (_request, reply) => sendApp(reply));

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    const isApi = pathname === API_PREFIX || pathname.startsWith(`${API_PREFIX}/`);
    const isAppRoute = (request.method === 'GET' || request.method === 'HEAD') && !isApi && !path.posix.basename(pathname).includes('.');
    if (isAppRoute) return sendApp(reply);
    return reply.send(new GatewayError('GW_ERR_NOT_FOUND', `no such ${isApi ? 'API route' : 'file'}: ${request.method} ${pathname}`));
  });
};
