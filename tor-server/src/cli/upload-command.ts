import fs from 'node:fs/promises';
import path from 'node:path';
import { TftcpConnectionError, TftcpReplyError } from '../client/errors.js';
import { ErrorKind } from '../protocol/constants.js';
import { printable } from '../protocol/printable.js';
import type { Session } from './commands.js';
import { elapsed, formatBytes } from './format.js';
import { ExitCode, type CliOutput, type CommandOutcome } from './outcome.js';
import { progressTracker } from './progress.js';
import { RESUMABLE_THRESHOLD, uploadResumable } from './resumable-upload.js';
import { findLocal, uploadFile } from './transfers.js';

/**
 * `upload NAME`: a file up to RESUMABLE_THRESHOLD goes by the seed's one-shot `upload` (a cut
 * or Ctrl-C leaves nothing on the server); a larger one by begin/put/commit over the session's
 * `parallel` connections, resumable by running the same command again.
 */
export async function uploadCommand(session: Session, file: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const local = await findLocal(file, session.folders.uploads);
  const { size } = await fs.stat(local);
  return size > RESUMABLE_THRESHOLD ? resumableUpload(session, local, io, signal) : oneShotUpload(session, local, io, signal);
}

async function oneShotUpload(session: Session, local: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const label = path.basename(local);
  const tracker = progressTracker(label, io);
  const started = performance.now();
  try {
    const result = await uploadFile(await session.client(signal), local, session.folders, tracker.hooks);
    tracker.bar()?.finish();
    io.out(`Uploaded ${printable(result.name)} (${formatBytes(result.size)} in ${elapsed(started)})`);
    return { code: ExitCode.OK };
  } catch (error) {
    tracker.bar()?.abort();
    if (!signal?.aborted) throw error;
    const percent = tracker.percent();
    // Once every byte is out, the server may already have stored the file before the cut reached it.
    const where =
      percent === undefined
        ? 'before it started; nothing was stored on the server'
        : tracker.complete()
          ? 'after all bytes were sent; the server may have stored it (check with show)'
          : `at ${percent}%; nothing was stored on the server`;
    io.err(`cancelled: upload of ${printable(label)} ${where}`);
    return { code: ExitCode.CANCELLED, cancelled: true };
  }
}

async function resumableUpload(session: Session, local: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const name = path.basename(local);
  const shown = printable(name);
  const tracker = progressTracker(name, io);
  const started = performance.now();
  const handle = await fs.open(local, 'r');
  try {
    const { size } = await handle.stat();
    const context = {
      control: () => session.client(signal),
      connect: () => session.connect(signal),
      parallel: session.parallel,
      hooks: tracker.hooks,
      resumed: (stored: number) => io.out(`resuming at ${Math.floor((stored / size) * 100)}% (${formatBytes(stored)} of ${formatBytes(size)} already on the server)`),
      signal,
    };
    const result = await uploadResumable(context, handle, name, size);
    tracker.bar()?.finish();
    io.out(`Uploaded ${shown} (${formatBytes(result.size)} in ${elapsed(started)})`);
    io.out(`verified sha256 ${result.sha256}`);
    return { code: ExitCode.OK };
  } catch (error) {
    tracker.bar()?.abort();
    const again = `run upload ${shown} again to resume`;
    if (signal?.aborted) {
      const where = tracker.percent() === undefined ? 'before it started' : `at ${tracker.percent()}%`;
      io.err(`cancelled: upload of ${shown} ${where}; ${again}`);
      return { code: ExitCode.CANCELLED, cancelled: true };
    }
    if (error instanceof TftcpConnectionError) {
      io.err(`Connection lost during the upload of ${shown} at ${tracker.percent() ?? 0}%: ${printable(error.message)}; what the server stored is kept, ${again}`);
      return { code: ExitCode.CONNECTION };
    }
    // The server keeps what it stored: the user's next step is to free space there, not to start over.
    if (error instanceof TftcpReplyError && error.kind === ErrorKind.NO_SPACE && tracker.percent() !== undefined) {
      io.err(`${printable(error.reply)}\nWhat the server stored of ${shown} (${tracker.percent() ?? 0}%) is kept; once it has room, ${again}.`);
      return { code: ExitCode.REFUSED };
    }
    throw error;
  } finally {
    await handle.close();
  }
}
