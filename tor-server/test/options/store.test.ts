import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, parseServerConfig } from '../../src/server/config.js';
import { s3Problem } from '../../src/server/store/s3/s3-errors.js';
import { describeS3, normalPrefix } from '../../src/server/store/s3/s3-settings.js';

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseServerConfig(argv, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

describe('store options', () => {
  it('default to the folder store; --store s3 takes the bucket settings from flags or TOR_S3_* variables', () => {
    assert.equal(DEFAULTS.store, 'fs');
    const config = parseServerConfig(['--store', 's3', '--s3-endpoint', 'http://127.0.0.1:9000/', '--s3-prefix', 'team-a', '--s3-poll-interval', '2'], { TOR_S3_BUCKET: 'tor-files', TOR_S3_REGION: 'eu-west-1' });
    assert.notEqual(config, 'help');
    if (config === 'help') return;
    assert.deepEqual([config.store, config.s3Endpoint, config.s3Bucket, config.s3Prefix, config.s3Region, config.s3PollIntervalMs], ['s3', 'http://127.0.0.1:9000', 'tor-files', 'team-a', 'eu-west-1', 2000]);
  });

  it('refuses what cannot work, naming the flag and its variable', () => {
    assert.equal(refusal(['--store', 's3']), '--store s3 needs --s3-bucket (TOR_S3_BUCKET): the bucket must exist');
    assert.equal(refusal(['--store', 'gcs']), '--store (TOR_STORE): "gcs" is not one of fs, s3');
    assert.equal(refusal(['--s3-bucket', 'B1']), '--s3-bucket (TOR_S3_BUCKET): "B1" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)');
    assert.equal(refusal(['--s3-endpoint', 'ftp://x']), '--s3-endpoint (TOR_S3_ENDPOINT): "ftp://x" must be an http:// or https:// URL');
  });

  it('has no flag for credentials: they come from the standard AWS variables only', () => {
    assert.match(refusal(['--s3-secret-access-key', 'x']), /s3-secret-access-key/);
  });

  it('a prefix is a folder of keys; the console shows endpoint/bucket/prefix', () => {
    assert.deepEqual(['', '/', 'a', 'a/', '/a/b//'].map(normalPrefix), ['', '', 'a/', 'a/', 'a/b/']);
    assert.equal(describeS3({ endpoint: 'http://127.0.0.1:7480/', bucket: 'files', prefix: 'team-a/', region: 'us-east-1' }), 's3 http://127.0.0.1:7480/files/team-a/');
    assert.equal(describeS3({ endpoint: undefined, bucket: 'files', prefix: '', region: 'eu-west-1' }), 's3 https://s3.eu-west-1.amazonaws.com/files/');
  });

  it('engine errors are told by their name and status, never their (often empty) message', () => {
    const status = (code: number, name: string) => Object.assign(new Error(''), { name, $metadata: { httpStatusCode: code } });
    assert.equal(s3Problem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), 'the S3 engine is unreachable (ECONNREFUSED)');
    assert.equal(s3Problem(status(403, 'UnknownError')), 'the S3 engine refused access (403): check the credentials and the bucket policy');
    assert.equal(s3Problem(status(403, 'SignatureDoesNotMatch')), 'the S3 engine refused access (403 SignatureDoesNotMatch): check the credentials and the bucket policy');
    assert.equal(s3Problem(status(503, 'SlowDown')), 'the S3 engine failed (503 SlowDown)');
    assert.equal(s3Problem(status(500, 'UnknownError')), 'the S3 engine failed (500)');
    assert.equal(s3Problem(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), 'the S3 engine did not answer in time');
  });
});
