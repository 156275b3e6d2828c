/**
 * Regression: `npm install` warned EBADENGINE because content-disposition@3 and cookie@2
 * (pulled in by @fastify/static and light-my-request) declare Node >= 22 while the project
 * promises less. Every installed package must accept every Node version the root
 * package.json's `engines` admits (README's Quick start states the same requirement).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

test('every package in the lock file runs on every Node version the project promises', () => {
  const promised = (read('package.json').engines as { node: string }).node;
  assert.ok(semver.validRange(promised), `engines.node "${promised}" is a range`);
  const packages = read('package-lock.json').packages as Record<string, LockEntry>;
  const narrower = Object.entries(packages)
    .filter(([where]) => where !== '')
    .flatMap(([where, entry]) => {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return wanted && !semver.subset(promised, wanted) ? [`${where.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${wanted}`] : [];
    });
  assert.deepEqual(narrower, [], `these packages ask for more than "${promised}"`);
});

test('this Node satisfies the promise, and README states it', () => {
  const promised = (read('package.json').engines as { node: string }).node;
  assert.ok(semver.satisfies(process.version, promised), `${process.version} is outside "${promised}"`);
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const minimum = semver.minVersion(promised)!;
  assert.ok(readme.includes(`Needs Node.js ${minimum.major}.${minimum.minor} `), `README's Quick start names Node.js ${minimum.major}.${minimum.minor}`);
});
