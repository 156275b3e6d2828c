import { Counter, Gauge, Registry } from 'prom-client';
import { SignInRefusal } from '../protocol/auth.js';
import { Command, ErrorKind, Reply, errorKindOf, type ErrorKindText } from '../protocol/constants.js';
import type { Activity } from './connection.js';

/** The `command` label of a line that is no TFTCP command (never the line itself: labels stay bounded). */
export const UNKNOWN_COMMAND = 'unknown';

/**
 * How a command ended, as the `result` label says it: `ok`, `closed` (it ended the connection),
 * `cut` (the connection broke under it), `not-found`, `unknown`, or its refusal's kind.
 */
export type CommandResult = string;

// `File already exists` → `file-exists`: the ErrorKind constant's own name, as a label value.
const RESULT_OF_KIND = new Map<ErrorKindText, CommandResult>(Object.entries(ErrorKind).map(([key, kind]) => [kind, key.toLowerCase().replaceAll('_', '-')]));

/** The result a reply line stands for, or undefined for a line that is no refusal (`ok`, `found`, a row). */
export function replyResult(line: string): CommandResult | undefined {
  if (line === Reply.NOT_FOUND) return 'not-found';
  if (line === SignInRefusal.INVALID_TOKEN) return 'invalid-token';
  if (line.startsWith(`${SignInRefusal.TOO_MANY_ATTEMPTS}:`)) return 'too-many-attempts';
  if (line === Reply.UNKNOWN) return 'unknown';
  const kind = errorKindOf(line);
  return kind && RESULT_OF_KIND.get(kind);
}

// Results that are no refusal of an upload.
const NOT_REFUSED = new Set<CommandResult>(['ok', 'closed', 'cut']);

const CONNECTION_STATES = ['idle', 'command', 'uploading', 'downloading', 'watching'] as const satisfies readonly Activity['kind'][];

/** What the metrics read at scrape time from the running server. */
export interface MetricsSources {
  connections(): Iterable<{ readonly activity: Activity }>;
  watchers(): number;
  freeBytes(): Promise<number>;
}

/**
 * The tor-server's Prometheus metrics, in a registry of its own (several servers in one
 * process do not clash). Counters that move per chunk are plain numbers read at scrape time;
 * gauges (connections by state, transfers, watchers, free bytes) are looked up only then.
 */
export class ServerMetrics {
  readonly registry: Registry;
  #uploadedBytes = 0;
  #downloadedBytes = 0;
  readonly #accepted: Counter;
  readonly #commands: Counter<'command' | 'result'>;
  readonly #uploadsRefused: Counter<'reason'>;

  constructor(registry: Registry, sources: MetricsSources) {
    this.registry = registry;
    const registers = [registry];
    this.#accepted = new Counter({ name: 'tor_server_connections_accepted_total', help: 'Connections accepted (refused ones are not counted).', registers });
    this.#commands = new Counter({
      name: 'tor_server_commands_total',
      help: 'Commands carried out, by command word and result (ok, closed, cut, not-found, unknown, or the refusal kind such as file-exists).',
      labelNames: ['command', 'result'],
      registers,
    });
    this.#uploadsRefused = new Counter({ name: 'tor_server_uploads_refused_total', help: 'Uploads refused, by reason (the reply kind: file-exists, too-large, no-space, invalid-size, ...).', labelNames: ['reason'], registers });
    const metrics = this;
    new Counter({
      name: 'tor_server_received_bytes_total',
      help: 'File bytes received by uploads (including uploads cut or refused after their bytes began).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.#uploadedBytes);
      },
    });
    new Counter({
      name: 'tor_server_sent_bytes_total',
      help: 'File bytes sent by downloads and ranges.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.#downloadedBytes);
      },
    });
    new Gauge({
      name: 'tor_server_connections',
      help: 'Connections open now, by state: idle, command, uploading, downloading, watching.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<Activity['kind'], number>(CONNECTION_STATES.map((state) => [state, 0]));
        for (const conn of sources.connections()) counts.set(conn.activity.kind, counts.get(conn.activity.kind)! + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'tor_server_transfers_in_progress',
      help: 'Uploads and downloads under way now, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        let uploads = 0;
        let downloads = 0;
        for (const { activity } of sources.connections()) {
          if (activity.kind === 'uploading') uploads++;
          else if (activity.kind === 'downloading') downloads++;
        }
        this.set({ direction: 'upload' }, uploads);
        this.set({ direction: 'download' }, downloads);
      },
    });
    new Gauge({ name: 'tor_server_watchers', help: 'Clients watching for changes now.', registers, collect: function () { this.set(sources.watchers()); } });
    new Gauge({
      name: 'tor_server_store_free_bytes',
      help: 'Bytes an upload may still use on the store (free space less the safety margin).',
      registers,
      async collect() {
        this.set(await sources.freeBytes());
      },
    });
  }

  /** A connection was accepted. */
  connectionAccepted(): void {
    this.#accepted.inc();
  }

  /** A command ended with `result`; an upload refused is also counted by its reason. */
  commandDone(command: string, result: CommandResult): void {
    this.#commands.inc({ command, result });
    if (command === Command.UPLOAD && !NOT_REFUSED.has(result)) this.#uploadsRefused.inc({ reason: result });
  }

  /** Bytes of an upload arrived. */
  received(bytes: number): void {
    this.#uploadedBytes += bytes;
  }

  /** Bytes of a download went out. */
  sent(bytes: number): void {
    this.#downloadedBytes += bytes;
  }
}
