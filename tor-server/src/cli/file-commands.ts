import { Reply } from '../protocol/constants.js';
import type { ChangeEvent } from '../protocol/changes.js';
import type { FileEntry } from '../protocol/file-row.js';
import { printable } from '../protocol/printable.js';
import type { Session } from './commands.js';
import { formatBytes, formatDate, formatTsv } from './format.js';
import { ExitCode, type CliOutput, type CommandOutcome } from './outcome.js';

/** `info`'s lines for a file: name, size (readable and exact), last modified in local time. */
export function formatInfo(entry: FileEntry): string {
  return [`Name:      ${printable(entry.name)}`, `Size:      ${formatBytes(entry.size)} (${entry.size} bytes)`, `Modified:  ${formatDate(entry.modified)}`].join('\n');
}

/** `hash`'s line, as sha256sum prints it: the hex digest, two spaces, the name. */
export function formatHash(hex: string, name: string): string {
  return `${hex}  ${printable(name)}`;
}

/** One change as `watch` prints it, escaped for the terminal (or as a TSV row with `tsv`). */
export function formatChange(event: ChangeEvent, tsv = false): string {
  switch (event.type) {
    case 'added':
      return tsv ? `added\t${formatTsv([event.entry])}` : `added    ${printable(event.entry.name)} (${formatBytes(event.entry.size)}, ${formatDate(event.entry.modified)})`;
    case 'removed':
      return tsv ? `removed\t${printable(event.name)}` : `removed  ${printable(event.name)}`;
    case 'renamed':
      return tsv ? `renamed\t${printable(event.from)}\t${printable(event.to)}` : `renamed  ${printable(event.from)} -> ${printable(event.to)}`;
    case 'resync':
      return tsv ? Reply.RESYNC : 'resync   some changes were missed: run show for the current list';
  }
}

/** Says `Not found file` as the server does; exit status 1. */
export function notFound(io: CliOutput): CommandOutcome {
  io.err(Reply.NOT_FOUND);
  return { code: ExitCode.REFUSED };
}

/**
 * Prints each change on the server as it happens, until Ctrl-C (which ends it normally, exit
 * status 0). The watch has the session's connection to itself; the next command reconnects.
 */
export async function watchChanges(session: Session, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const changes = await (await session.client(signal)).watch();
  io.err(`Watching ${session.host}:${session.port} for changes; press Ctrl-C to stop.`);
  try {
    for await (const event of changes) io.out(formatChange(event, session.tsv));
  } catch (error) {
    // Ctrl-C cuts the connection under the loop: that is how a watch ends.
    if (!signal?.aborted) throw error;
  }
  return { code: ExitCode.OK, cancelled: signal?.aborted };
}
