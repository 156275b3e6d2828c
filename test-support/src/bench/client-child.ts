/**
 * The process a ClientProcess starts: runs the transfers it is sent, one at a time, and answers
 * each with its MB/s. A client's code is loaded on its first job, so a process that only ever
 * moves TFTCP never loads the AWS SDK. Ends when its parent goes.
 */
import type { ClientAnswer, ClientJob } from './client-process.js';

async function run(job: ClientJob): Promise<number> {
  switch (job.op) {
    case 'raw-download':
      return (await import('./raw.js')).rawSocketDownload(job.port, job.name, job.size);
    case 'raw-upload':
      return (await import('./raw.js')).rawSocketUpload(job.port, job.file, job.size, job.name);
    case 'tftcp-download':
      return (await import('./tftcp.js')).tftcpDownload(job.port, job.name, job.size);
    case 'tftcp-upload':
      return (await import('./tftcp.js')).tftcpUpload(job.port, job.file, job.size, job.name);
    case 's3-get':
      return (await import('./s3-direct.js')).directGet(await engine(), job.bucket, job.key, job.size);
    case 's3-put':
      return (await import('./s3-direct.js')).directPut(await engine(), job.bucket, job.key, job.file, job.size);
    case 'multipart-upload':
      return (await import('./multipart.js')).multipartUpload(job.base, job.file, job.size, job.name);
  }
}

async function engine() {
  const found = (await import('../s3.js')).s3Engine({ quiet: true });
  if (!found) throw new Error('no S3 engine in this process\'s environment (S3_ENDPOINT)');
  return found;
}

process.on('message', (job: ClientJob) => {
  run(job).then(
    (mbps) => process.send!({ mbps } satisfies ClientAnswer),
    (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) } satisfies ClientAnswer),
  );
});
process.on('disconnect', () => process.exit(0));
