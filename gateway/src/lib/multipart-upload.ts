import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { ErrorKind, errorReply, parseSize } from 'tor-server/protocol';
import type { UploadResult } from '../routes/api-types.js';
import { GatewayError, asGatewayError } from '../errors.js';
import { checkFileName } from './names.js';
import { spoolToFile } from './spool.js';
import { checkUploadSize, drain, uploadExactly } from './upload.js';
import type { Upstream } from './upstream.js';

/** Name of the form field that announces the size of the file part right after it. */
export const SIZE_FIELD = 'size';

export interface MultipartUploadOptions {
  upstream: Upstream;
  maxUploadSize: number;
  /** Where parts without a size hint are spooled. */
  spoolDir: string;
  /** Called after each file is stored. */
  onStored(result: UploadResult): void;
}

/** What a whole form came to: per-file results and the status to answer with. */
export interface MultipartOutcome {
  status: number;
  files: UploadResult[];
}

/**
 * Streams each file part of a multipart form into its own TFTCP upload as it arrives. A
 * `size` field right before a part announces its size, so its bytes go straight through;
 * a part without one is spooled first. One failed part does not stop the others: its rest
 * is drained and its result says why. The status is 201 when all were stored, else the
 * status of the first failure.
 */
export async function receiveMultipart(request: FastifyRequest, options: MultipartUploadOptions): Promise<MultipartOutcome> {
  const { upstream } = options;
  // Connect before reading the body, so a down tor-server is a prompt 503, not one after the upload.
  let client: TftcpClient | undefined = await upstream.connect();
  const files: UploadResult[] = [];
  let firstFailure: number | undefined;
  let hint: string | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        hint = part.fieldname === SIZE_FIELD ? String(part.value) : undefined;
        continue;
      }
      const announced = hint;
      hint = undefined;
      const name = part.filename;
      try {
        client ??= await upstream.connect();
        const size = await storePart(client, part, name, announced, options);
        const result = { name, size, ok: true };
        files.push(result);
        options.onStored(result);
      } catch (error) {
        // After a refusal the connection is still in step; after anything else it may not be.
        if (client && !(error instanceof TftcpReplyError)) {
          client.destroy();
          client = undefined;
        }
        const failure = asGatewayError(error);
        firstFailure ??= failure.statusCode;
        await drain(part.file);
        const size = (announced !== undefined && parseSize(announced.trim())) || part.file.bytesRead;
        files.push({ name, size, ok: false, error: failure.message });
      }
    }
  } finally {
    if (client) upstream.release(client);
  }
  if (files.length === 0) throw new GatewayError('GW_ERR_BAD_REQUEST', 'the form has no file part; send the files as multipart/form-data file fields');
  return { status: firstFailure ?? 201, files };
}

/** Uploads one file part and returns its size. */
async function storePart(client: TftcpClient, part: MultipartFile, name: string, announced: string | undefined, options: MultipartUploadOptions): Promise<number> {
  checkFileName(name);
  if (announced !== undefined) {
    const size = parseSize(announced.trim());
    if (size === undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', errorReply(ErrorKind.INVALID_SIZE, `the ${SIZE_FIELD} field "${announced.slice(0, 40)}" is not a byte count`));
    checkUploadSize(size, options.maxUploadSize);
    await uploadExactly(client, name, size, part.file as Readable);
    return size;
  }
  const spooled = await spoolToFile(part.file as Readable, options.spoolDir, options.maxUploadSize);
  const source = createReadStream(spooled.path);
  try {
    await uploadExactly(client, name, spooled.size, source);
    return spooled.size;
  } finally {
    source.destroy();
    await spooled.remove();
  }
}
