import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ApiPath, filePath } from '../../src/api/index.js';
import { buildApp } from '../../src/app.js';

const API_DIR = fileURLToPath(new URL('../../src/api/', import.meta.url));

test('the contract is browser-safe: its modules import only each other', async () => {
  for (const file of await fs.readdir(API_DIR)) {
    const source = await fs.readFile(path.join(API_DIR, file), 'utf8');
    for (const [, specifier] of source.matchAll(/from\s+'([^']+)'/g)) {
      assert.match(specifier!, /^\.\/[\w-]+\.js$/, `${file} imports ${specifier}`);
    }
  }
});

test('every API path is a route of the app, and a file path fills in its :name', async (t) => {
  const app = buildApp({ torHost: '127.0.0.1', torPort: 1, webDir: API_DIR, maxUploadSize: 1 });
  t.after(() => app.close());
  await app.ready();
  // A path counts as a route under any method (tus's /api/uploads/ has no GET, /api/shares/:id only DELETE).
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
  for (const url of Object.values(ApiPath)) assert.ok(methods.some((method) => app.hasRoute({ method, url })), url);
  assert.equal(filePath('a b/ü.txt'), '/api/files/a%20b%2F%C3%BC.txt');
  assert.equal(app.findRoute({ method: 'PUT', url: filePath('x.txt') })?.params.name, 'x.txt');
});
