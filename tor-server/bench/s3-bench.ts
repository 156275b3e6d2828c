/**
 * The S3 rows of `npm run bench`: download and upload through a tor-server on the S3 store,
 * each against a direct SDK GetObject / PutObject of the same file to the same engine in the
 * same run, and the server's peak RSS. Without an engine (S3_ENDPOINT) one row says so.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Bucket, s3Engine, spawnTorServer, type S3Engine, type Scope } from 'test-support';
import { ClientProcess, interleaved, log, memoryRow, ratioRow, tftcpUpload, type Row } from 'test-support/bench';

/** Through the tor-server, at least this share of the direct SDK transfer. */
const S3_TARGET = 0.7;
// Best of this many interleaved rounds (BENCH_ROUNDS): the engine shares the machine's cores, and one round is often disturbed.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The S3 rows for a file of `size` bytes at `source`, or one row saying why there are none. */
export async function s3Rows(source: string, size: number, workDir: string, scope: Scope, rssLimitMb: number): Promise<Row[]> {
  const engine = s3Engine();
  if (!engine) return [{ name: 'S3 store', value: 'skipped (no S3_ENDPOINT; run scripts/s3-engine/start.sh)' }];
  log('S3 store: direct SDK transfers beside the tor-server on the S3 store');
  const bucket = await s3Bucket(scope, engine);
  const server = await spawnTorServer(scope, {
    dir: workDir,
    args: ['--log-level', 'warn', '--store', 's3', '--s3-endpoint', engine.endpoint, '--s3-bucket', bucket, '--s3-region', engine.region],
    env: { ...process.env, ...engine.env },
  });
  // The direct GET reads the very object the tor-server serves (stored by its streamed multipart upload).
  await tftcpUpload(server.port, source, size, 'served.bin');
  // Each client in a process of its own, as a program using it would run (see ClientProcess).
  const sdk = await ClientProcess.start(scope);
  const tftcp = await ClientProcess.start(scope);
  const port = server.port;
  let round = 0;
  const [get, download, put, upload] = await interleaved(ROUNDS, [
    () => sdk.run({ op: 's3-get', bucket, key: 'served.bin', size }),
    () => tftcp.run({ op: 'tftcp-download', port, name: 'served.bin', size }),
    () => measureThenDelete(engine, bucket, `direct-${round}.bin`, (key) => sdk.run({ op: 's3-put', bucket, key, file: source, size })),
    () => measureThenDelete(engine, bucket, `up-${round++}.bin`, (key) => tftcp.run({ op: 'tftcp-upload', port, file: source, size, name: key })),
  ]);
  return [
    { name: 'S3 direct SDK GetObject (engine → discard)', value: `${get.toFixed(0)} MB/s` },
    ratioRow('TFTCP download on the S3 store', download, get, S3_TARGET),
    { name: 'S3 direct SDK PutObject (file → engine)', value: `${put.toFixed(0)} MB/s` },
    ratioRow('TFTCP upload on the S3 store (parts, commit)', upload, put, S3_TARGET),
    memoryRow('server peak RSS on the S3 store', await server.peakRss(), rssLimitMb),
  ];
}

/** Runs an upload measurement to `key`, then deletes what it stored, so the engine's disk use stays flat over the rounds. */
async function measureThenDelete(engine: S3Engine, bucket: string, key: string, measure: (key: string) => Promise<number>): Promise<number> {
  const result = await measure(key);
  await engine.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return result;
}
