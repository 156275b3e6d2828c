import type { IncomingMessage } from 'node:http';
import { defineConfig, type ProxyOptions } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { gzipSizeReport } from './scripts/gzip-size-report.js';

/** The gateway `npm run dev` proxies /api to (HTTP and the WebSocket). */
const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';

/**
 * The gateway trusts only pages of its own origin to upload and open the WebSocket, and the
 * dev server's pages come from another one. The proxy already sends the gateway its own Host
 * (changeOrigin); it also vouches for the dev server's own pages by giving them the gateway's
 * origin. Requests from any other page keep their Origin, and the gateway refuses them.
 */
const vouchForDevPages: ProxyOptions['configure'] = (proxy) => {
  const gatewayOrigin = new URL(gatewayUrl).origin;
  const rewrite = (proxyRequest: { setHeader(name: string, value: string): void }, request: IncomingMessage) => {
    if (request.headers.origin === `http://${request.headers.host}`) proxyRequest.setHeader('origin', gatewayOrigin);
  };
  proxy.on('proxyReq', rewrite);
  proxy.on('proxyReqWs', rewrite);
};

/** The shipped JavaScript must stay under this many gzipped bytes: the app loads fast on a slow link (issue 13 let it grow to 80 KB for tus-js-client). */
const JS_GZIP_LIMIT_BYTES = 80 * 1024;

export default defineConfig({
  plugins: [svelte(), gzipSizeReport({ jsLimitBytes: JS_GZIP_LIMIT_BYTES })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: gatewayUrl, ws: true, changeOrigin: true, configure: vouchForDevPages },
    },
  },
});
