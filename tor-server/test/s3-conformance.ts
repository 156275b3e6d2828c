/**
 * The conformance run: the TFTCP test files that do not look at the folder on disk, again on the
 * S3 store (TOR_TEST_STORE=s3: every server a test starts gets a new bucket of its own). Tests
 * that do look at the folder are marked FOLDER_ONLY and skip themselves. Without an engine
 * (S3_ENDPOINT) it prints one SKIPPED line, unless REQUIRE_S3=1 (CI), where that fails.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { s3Engine } from 'test-support';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The protocol test files that run on both stores. */
export const CONFORMANCE_FILES = [
  'server/upload.test.ts',
  'server/file-commands.test.ts',
  'server/listing.test.ts',
  'server/hash.test.ts',
  'server/watch.test.ts',
  'server/resumable.test.ts',
  'server/transfer-out.test.ts',
  'server/change-races.test.ts',
  'server/connection.test.ts',
  'client/tftcp-client.test.ts',
  'client/tftcp-client-files.test.ts',
  'client/change-watch.test.ts',
  'client/resumable.test.ts',
];

let engine;
try {
  engine = s3Engine();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
if (engine) {
  const files = CONFORMANCE_FILES.map((file) => path.join(HERE, file));
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit', env: { ...process.env, TOR_TEST_STORE: 's3' } });
  process.exit(run.status ?? 1);
}
