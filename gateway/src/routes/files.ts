import os from 'node:os';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync } from 'fastify';
import { GatewayError } from '../errors.js';
import type { FileEvents } from '../lib/file-events.js';
import { receiveMultipart } from '../lib/multipart-upload.js';
import { checkFileName, searchTextProblem } from '../lib/names.js';
import { assertSameOrigin } from '../lib/origin.js';
import { sendFile } from '../lib/send-file.js';
import { checkUploadSize, uploadExactly } from '../lib/upload.js';
import type { Upstream } from '../lib/upstream.js';
import type { FileInfo, UploadResponse, UploadResult } from './api-types.js';

export interface FilesRoutesOptions {
  upstream: Upstream;
  events: FileEvents;
  maxUploadSize: number;
  /** Where multipart parts without a size hint wait until they are complete. Default: the OS temp folder. */
  spoolDir?: string;
}

// Limits on the form around the files; the files themselves are bounded by maxUploadSize.
const FORM_LIMITS = { fileSize: Infinity, files: 1000, parts: 2000, fields: 1000, fieldSize: 64 * 1024 };

/** `/api/files`: listing and search, streamed downloads with ranges, multipart and raw uploads. */
export const filesRoutes: FastifyPluginAsync<FilesRoutesOptions> = async (app, options) => {
  const { upstream, events, maxUploadSize } = options;
  if (!Number.isSafeInteger(maxUploadSize) || maxUploadSize < 0) throw new Error('filesRoutes: maxUploadSize must be a byte count');
  const spoolDir = options.spoolDir ?? os.tmpdir();

  // Bodies are streamed by the handlers themselves, never buffered by a parser.
  app.removeAllContentTypeParsers();
  await app.register(multipart, { limits: FORM_LIMITS, throwFileSizeLimit: false });
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  const stored = (result: UploadResult) => {
    app.log.info({ name: result.name, size: result.size }, 'stored');
    events.filesChanged();
  };

  app.get<{ Querystring: { search?: string } }>('/api/files', async (request, reply) => {
    const text = typeof request.query.search === 'string' ? request.query.search : '';
    const problem = searchTextProblem(text);
    if (problem) throw new GatewayError('GW_ERR_BAD_REQUEST', problem);
    // An empty search is no filter at all (TFTCP's search needs a non-empty argument).
    const files: FileInfo[] = await upstream.use((client) => (text === '' ? client.show() : client.search(text)));
    return reply.header('cache-control', 'no-store').send(files);
  });

  app.route<{ Params: { name: string }; Querystring: { inline?: string } }>({
    method: ['GET', 'HEAD'],
    url: '/api/files/:name',
    exposeHeadRoute: false,
    handler: (request, reply) => sendFile(request, reply, upstream, request.params.name, isTrue(request.query.inline)),
  });

  app.post('/api/files', { preHandler: assertSameOrigin }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new GatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the files as multipart/form-data, or PUT the raw bytes to /api/files/<name>');
    }
    const outcome = await receiveMultipart(request, { upstream, maxUploadSize, spoolDir, onStored: stored });
    const body: UploadResponse = { files: outcome.files };
    return reply.code(outcome.status).send(body);
  });

  app.put<{ Params: { name: string } }>('/api/files/:name', { preHandler: assertSameOrigin }, async (request, reply) => {
    const { name } = request.params;
    const lengthHeader = request.headers['content-length'];
    if (lengthHeader === undefined) {
      throw new GatewayError('GW_ERR_LENGTH_REQUIRED', 'send the body with a Content-Length: the tor-server needs the size before the bytes');
    }
    const size = Number(lengthHeader);
    checkFileName(name);
    checkUploadSize(size, maxUploadSize);
    const client = await upstream.connect();
    try {
      await uploadExactly(client, name, size, request.raw);
    } finally {
      upstream.release(client);
    }
    const result: UploadResult = { name, size, ok: true };
    stored(result);
    return reply.code(201).header('location', `/api/files/${encodeURIComponent(name)}`).send(result);
  });
};

function isTrue(flag: string | undefined): boolean {
  return flag === '1' || flag === 'true' || flag === '';
}
