import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { printable } from '../protocol/printable.js';
import type { Activity, Connection } from './connection.js';

/** The operator console's prompt. */
export const CONSOLE_PROMPT = 'tor >> ';

/** What the console needs from the server. */
export interface ConsoleTarget {
  readonly connections: ReadonlySet<Connection>;
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

/** The operator console: `list`, `clear`, `exit`, `help` at a `tor >> ` prompt. */
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

  #run(command: string): void {
    const out = (text: string) => this.#options.output.write(`${text}\n`);
    switch (command) {
      case '':
        break;
      case 'list':
        out(formatClientList([...this.#target.connections]));
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
        out(['Commands:', '  list   clients online and what each is doing', '  clear  clear the screen', '  exit   shut the server down (only when no client is online)', '  help   this text'].join('\n'));
        break;
      default:
        out(`Unknown command "${printable(command.slice(0, 40))}". Type help for the list of commands.`);
    }
    if (!this.#closed) this.#rl.prompt();
  }
}

/** What `list` shows of one connection. */
export type ClientRow = Pick<Connection, 'label' | 'connectedAt' | 'activity'>;

/** The `list` report: the count, then one row per client. Whatever came from a client is escaped for the terminal. */
export function formatClientList(connections: readonly ClientRow[], now = new Date()): string {
  const count = connections.length;
  const header = `${count} ${count === 1 ? 'client' : 'clients'} online`;
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

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
