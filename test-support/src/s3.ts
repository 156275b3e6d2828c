import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Owner } from './scope.js';

/** The line a run without an engine prints once (tests then skip their S3 parts). */
export const S3_SKIPPED = 'SKIPPED: s3 store (no S3_ENDPOINT; run scripts/s3-engine/start.sh)';

/** An S3-compatible engine the tests may use, from the environment scripts/s3-engine/start.sh's s3.env sets. */
export interface S3Engine {
  endpoint: string;
  region: string;
  /** Credentials, as the standard AWS variables carry them to a tor-server child process. */
  env: Record<string, string>;
  client: S3Client;
}

let skipped = false;
let engine: S3Engine | undefined;

/**
 * The engine named by S3_ENDPOINT (with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or S3_ACCESS_KEY_ID /
 * S3_SECRET_ACCESS_KEY), or undefined after printing {@link S3_SKIPPED} once (unless `quiet`: test
 * files skip with a reason of their own, and the run prints the line once). With REQUIRE_S3=1 (CI)
 * a missing engine throws instead.
 */
export function s3Engine(options: { quiet?: boolean } = {}): S3Engine | undefined {
  if (engine) return engine;
  const env = process.env;
  const endpoint = env.S3_ENDPOINT;
  if (!endpoint) {
    if (env.REQUIRE_S3 === '1') throw new Error('FAILED: the S3 tests are required (REQUIRE_S3=1) but S3_ENDPOINT is not set: run scripts/s3-engine/start.sh and source its s3.env');
    if (!skipped && !options.quiet) console.log(S3_SKIPPED);
    skipped = true;
    return undefined;
  }
  const region = env.S3_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? env.S3_ACCESS_KEY_ID ?? '';
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? env.S3_SECRET_ACCESS_KEY ?? '';
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  engine = { endpoint, region, env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region }, client };
  return engine;
}

/** A new, empty bucket of its own for one test (so runs never collide), emptied and deleted after it. */
export async function s3Bucket(owner: Owner, s3: S3Engine): Promise<string> {
  const bucket = `tor-test-${randomBytes(6).toString('hex')}`;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  owner.after(() => dropBucket(s3.client, bucket));
  return bucket;
}

/** Aborts every multipart upload in the bucket, deletes every object, then the bucket. Never throws. */
export async function dropBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const upload of uploads.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      await Promise.all((page.Contents ?? []).map((object) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }))));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // The engine was stopped by the test, or is gone: its data folder goes with the run.
  }
}
