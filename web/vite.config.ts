import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { gzipSizeReport } from './scripts/gzip-size-report.js';

/** The gateway `npm run dev` proxies /api to (HTTP and the WebSocket). */
const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';

/** The shipped JavaScript must stay under this many gzipped bytes (issue 4). */
const JS_GZIP_LIMIT_BYTES = 60 * 1024;

export default defineConfig({
  plugins: [svelte(), gzipSizeReport({ jsLimitBytes: JS_GZIP_LIMIT_BYTES })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: gatewayUrl, ws: true, changeOrigin: true },
    },
  },
});
