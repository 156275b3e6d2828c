import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ErrorKind, Reply, errorReply } from '../protocol/constants.js';
import { printable } from '../protocol/printable.js';
import { splitWords } from '../protocol/words.js';
import { deleteFile, renameFile, type FileOpsContext } from './changes/file-ops.js';
import type { Authority } from './auth/authority.js';
import { TOKEN_USAGE, runTokenAdmin } from './auth/token-admin.js';
import type { Activity, Connection } from './connection.js';
import type { Logger } from './logger.js';
import type { Partial } from './partials/partial.js';
import type { StoreState } from './store/s3/s3-store.js';
import { StoreError, toFileName, type FileName } from './store/store.js';

/** The operator console's prompt. */
export const CONSOLE_PROMPT = 'tor >> ';

/** What the console needs from the server: its clients, and the way files change (so watchers see the operator's changes too). */
export interface ConsoleTarget extends FileOpsContext {
  readonly connections: ReadonlySet<Connection>;
  /** Resumable uploads not yet committed, listed with their progress. */
  readonly partials: { list(): readonly PartialRow[] };
  readonly logger: Logger;
  /** The tokens `token` and `share` manage. */
  readonly auth: Authority;
  /** Where the files live (`fs /path`, `s3 endpoint/bucket/prefix`) and whether it answers. */
  storeState(): StoreState;
}

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  /** Whether output is a terminal (enables line editing and screen clearing). */
  terminal: boolean;
  /** Called for `exit` with no client online. */
  onExit(): void;
  /** Called for Ctrl-C at the prompt. */
  onInterrupt(): void;
}

const HELP = [
  'Commands:',
  '  list            the store and its state, clients online and what each is doing (watchers too), then unfinished resumable uploads',
  '  rm NAME         delete a file; watchers see it',
  '  mv OLD NEW      rename a file, never over another; put names with spaces in quotes',
  TOKEN_USAGE,
  '  clear           clear the screen',
  '  exit            shut the server down (only when no client is online)',
  '  help            this text',
].join('\n');

/** The operator console: `list`, `rm`, `mv`, `clear`, `exit`, `help` at a `tor >> ` prompt. */
export class OperatorConsole {
  readonly #rl: readline.Interface;
  readonly #target: ConsoleTarget;
  readonly #options: ConsoleOptions;
  #closed = false;

  constructor(target: ConsoleTarget, options: ConsoleOptions) {
    this.#target = target;
    this.#options = options;
    this.#rl = readline.createInterface({ input: options.input, output: options.output, terminal: options.terminal, prompt: CONSOLE_PROMPT });
    this.#rl.on('line', (line) => this.#run(line.trim()));
    this.#rl.on('SIGINT', () => options.onInterrupt());
    // Ctrl-D (end of input) is an exit request like any other.
    this.#rl.on('close', () => {
      if (!this.#closed) options.onExit();
    });
    this.#rl.prompt();
  }

  /** Prints a line (a log line) above the prompt without garbling what the operator is typing. */
  print(text: string): void {
    if (this.#closed) return void this.#options.output.write(text);
    readline.clearLine(this.#options.output, 0);
    readline.cursorTo(this.#options.output, 0);
    this.#options.output.write(text);
    this.#rl.prompt(true);
  }

  /** Stops reading the console. */
  close(): void {
    this.#closed = true;
    this.#rl.close();
  }

  #run(line: string): void {
    const out = (text: string) => this.#options.output.write(`${text}\n`);
    const space = line.indexOf(' ');
    const word = space === -1 ? line : line.slice(0, space);
    if (word === 'token' || word === 'share') {
      void this.#administerTokens(line).then(out, (error: unknown) => out(`Could not change the tokens: ${printable((error as Error).message)}`)).finally(() => {
        if (!this.#closed) this.#rl.prompt();
      });
      return;
    }
    if (word === 'rm' || word === 'mv') {
      // The prompt comes back once the change is done, like any command's answer.
      void this.#changeFiles(word, line.slice(word.length).trim()).then(out, (error: unknown) => out(`Could not ${word}: ${printable((error as Error).message)}`)).finally(() => {
        if (!this.#closed) this.#rl.prompt();
      });
      return;
    }
    const command = line;
    switch (command) {
      case '':
        break;
      case 'list':
        out(formatStoreLine(this.#target.storeState()));
        out(formatClientList([...this.#target.connections]));
        if (this.#target.partials.list().length > 0) out(formatPartialList(this.#target.partials.list()));
        break;
      case 'clear':
        // Clear the screen and the scrollback, then home the cursor.
        this.#options.output.write('\x1b[2J\x1b[3J\x1b[H');
        break;
      case 'exit': {
        const count = this.#target.connections.size;
        if (count > 0) {
          out(`Cannot exit: ${count} ${count === 1 ? 'client is' : 'clients are'} online. Wait for them to leave, or press Ctrl-C to shut down gracefully.`);
          break;
        }
        this.close();
        this.#options.onExit();
        return;
      }
      case 'help':
        out(HELP);
        break;
      default:
        out(`Unknown command "${printable(command.slice(0, 40))}". Type help for the list of commands.`);
    }
    if (!this.#closed) this.#rl.prompt();
  }

  /** `token ...` or `share ...` on the server's own token file; a revocation applies at once. */
  async #administerTokens(line: string): Promise<string> {
    const words = splitWords(line);
    if (!words) return 'Unbalanced quote';
    const outcome = await runTokenAdmin(this.#target.auth.file, words);
    await this.#target.auth.reload();
    return outcome.text;
  }

  /** `rm NAME` or `mv OLD NEW`, through the change feed; resolves with the line to print. */
  async #changeFiles(word: 'rm' | 'mv', argument: string): Promise<string> {
    const words = argument.startsWith('"') || argument.startsWith("'") || word === 'mv' ? splitWords(argument) : [argument];
    const wanted = word === 'rm' ? 1 : 2;
    if (!words || words.length !== wanted || words.includes('')) {
      return word === 'rm' ? 'Usage: rm NAME (a name with spaces may be quoted)' : 'Usage: mv OLD NEW (put a name with spaces in quotes: mv "old name.txt" "new name.txt")';
    }
    const names: FileName[] = [];
    for (const name of words) {
      const checked = toFileName(name);
      if (checked.problem !== undefined) return errorReply(ErrorKind.INVALID_NAME, `${printable(name)}: ${checked.problem}`);
      names.push(checked.name);
    }
    const target = this.#target;
    if (word === 'rm') {
      if (!(await deleteFile(target, names[0]!))) return Reply.NOT_FOUND;
      target.logger.info('deleted', { client: 'console', name: names[0] });
      return `Deleted ${printable(names[0]!)}`;
    }
    const [from, to] = names as [FileName, FileName];
    try {
      if (!(await renameFile(target, from, to))) return Reply.NOT_FOUND;
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'exists') return errorReply(ErrorKind.FILE_EXISTS, printable(error.message));
      throw error;
    }
    target.logger.info('renamed', { client: 'console', from, to });
    return `Renamed ${printable(from)} to ${printable(to)}`;
  }
}

/** `store s3 http://127.0.0.1:7480/files/ (reachable)`: the first line of `list`. */
export function formatStoreLine(store: StoreState): string {
  return `store ${printable(store.description)} (${printable(store.state)})`;
}

/** What `list` shows of one connection. */
export type ClientRow = Pick<Connection, 'label' | 'connectedAt' | 'activity'>;

/** The `list` report: the count, then one row per client. Whatever came from a client is escaped for the terminal. */
export function formatClientList(connections: readonly ClientRow[], now = new Date()): string {
  const count = connections.length;
  const watching = connections.filter((c) => c.activity.kind === 'watching').length;
  const header = `${count} ${count === 1 ? 'client' : 'clients'} online${watching > 0 ? ` (${watching} watching changes)` : ''}`;
  const rows = connections.map((c) => {
    const since = c.connectedAt.toISOString().slice(11, 19);
    return `  ${printable(c.label).padEnd(22)} since ${since} (${formatDuration(now.getTime() - c.connectedAt.getTime())})  ${describeActivity(c.activity)}`;
  });
  return [header, ...rows].join('\n');
}

/** `idle`, `show`, or `uploading clip.mp4 41%`, escaped for the terminal. */
export function describeActivity(activity: Activity): string {
  switch (activity.kind) {
    case 'idle':
      return 'idle';
    case 'command':
      return printable(activity.command);
    case 'watching':
      return `watching changes since ${activity.since.toISOString().slice(11, 19)}`;
    default: {
      const percent = activity.total > 0 ? Math.floor((activity.done() / activity.total) * 100) : 100;
      return `${activity.kind} ${printable(activity.name)} ${percent}%`;
    }
  }
}

/** What `list` shows of one resumable upload. */
export type PartialRow = Pick<Partial, 'id' | 'name' | 'owner' | 'size' | 'stored' | 'touchedAt'>;

/** The unfinished resumable uploads: the count, then one row each with its progress and idle time. */
export function formatPartialList(partials: readonly PartialRow[], now = Date.now()): string {
  const count = partials.length;
  const rows = partials.map((p) => {
    const percent = p.size > 0 ? Math.floor((p.stored / p.size) * 100) : 100;
    return `  ${printable(p.name)} ${percent}% (${p.stored} of ${p.size} bytes)  owner ${printable(p.owner)}  idle ${formatDuration(now - p.touchedAt)}  id ${p.id}`;
  });
  return [`${count} unfinished ${count === 1 ? 'upload' : 'uploads'}`, ...rows].join('\n');
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
