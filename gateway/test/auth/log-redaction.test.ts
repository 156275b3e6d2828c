import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, spawnGateway } from 'test-support';
import { sharePagePath, sharedFilePath } from '../../src/api/index.js';
import { startTorServer } from '../helpers.js';

const SECRET = 'S3cr3t'.repeat(7) + 'x';
const LINK = `tft_0badc0de_${SECRET}`;

test('a share link\'s secret never reaches the gateway\'s log, at info level: the link is named by its id', async (t) => {
  const { port } = await startTorServer(t);
  const gateway = await spawnGateway(t, { torPort: port, args: ['--log-level', 'info'], fromSource: true });
  const paths = [sharePagePath(LINK), sharedFilePath(LINK), sharedFilePath(LINK, true), `${sharedFilePath(LINK)}/nothing-here`, `${sharedFilePath(LINK)}?x=1`];
  for (const where of paths) await fetch(`${gateway.url}${where}`);
  await fetch(`${gateway.url}${sharedFilePath(LINK)}`, { headers: { 'sec-fetch-site': 'cross-site' } });
  // Every request's completion is logged: all of them are in once the last one's is.
  await eventually(() => gateway.lines().filter((line) => line.includes('request completed')).length >= paths.length + 1, 'every request to be logged');
  const lines = gateway.lines();
  assert.deepEqual(lines.filter((line) => line.includes(SECRET)), [], 'no line holds the secret');
  assert.ok(lines.some((line) => line.includes('tft_0badc0de_…')), 'the link is named by its id');
});
