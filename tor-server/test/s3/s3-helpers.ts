import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestContext } from 'node:test';
import { s3Bucket, s3Engine, type S3Engine } from 'test-support';
import { startServer, type TestServer } from '../helpers.js';

/** The engine, or undefined when these tests cannot run here (`npm run test:s3` prints the one SKIPPED line). */
export const engine: S3Engine | undefined = s3Engine({ quiet: true });

/** Why an S3 test is skipped, or false when it runs. */
export const NO_ENGINE = engine ? false : 'no S3 engine (S3_ENDPOINT)';

/** A server on the S3 store: a new bucket of its own (or `bucket`), on the test engine (or `endpoint`, a proxy in front of it). */
export async function startS3Server(t: TestContext, options: Parameters<typeof startServer>[1] & { bucket?: string; endpoint?: string } = {}): Promise<TestServer & { bucket: string }> {
  const { bucket: given, endpoint, ...rest } = options;
  const bucket = given ?? (await s3Bucket(t, engine!));
  Object.assign(process.env, engine!.env);
  const started = await startServer(t, { store: 's3', s3Endpoint: endpoint ?? engine!.endpoint, s3Bucket: bucket, s3Region: engine!.region, ...rest });
  return { ...started, bucket };
}

/** Puts an object straight into the bucket, as another program would. */
export async function putObject(bucket: string, key: string, body: Buffer | string, metadata?: Record<string, string>): Promise<void> {
  const data = Buffer.from(body);
  await engine!.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length, ...(metadata && { Metadata: metadata }) }));
}

/** The object's bytes, straight from the bucket; undefined when there is none. */
export async function getObject(bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const got = await engine!.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

/** The object's user metadata, straight from the bucket. */
export async function metadataOf(bucket: string, key: string): Promise<Record<string, string>> {
  return (await engine!.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
}
