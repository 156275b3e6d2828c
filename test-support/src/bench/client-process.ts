/** Bench clients in processes of their own (ClientProcess), and the transfers they time. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Owner } from '../scope.js';

/** A transfer a client process times; each answers MB/s. */
export type ClientJob =
  | { op: 'raw-download'; port: number; name: string; size: number }
  | { op: 'raw-upload'; port: number; file: string; size: number; name: string }
  | { op: 'tftcp-download'; port: number; name: string; size: number }
  | { op: 'tftcp-upload'; port: number; file: string; size: number; name: string }
  /** A GetObject of `key` from the engine named by the environment (S3_ENDPOINT and the keys). */
  | { op: 's3-get'; bucket: string; key: string; size: number }
  | { op: 's3-put'; bucket: string; key: string; file: string; size: number }
  /** POST `file` to the gateway at `base` as the web app does. */
  | { op: 'multipart-upload'; base: string; file: string; size: number; name: string };

/** What the child answers to one job. */
export type ClientAnswer = { mbps: number } | { error: string };

const CHILD = fileURLToPath(new URL('./client-child.ts', import.meta.url));

/**
 * A client in a Node process of its own, kept for a whole bench run, timing the transfers it is
 * asked for. A transfer timed inside the bench's own process pays for whatever else that
 * process holds: with the AWS SDK's code loaded beside it (as the S3 rows need), a 1 GiB TFTCP
 * download made V8 run 25–30 full collections and its client took 0.5–0.8 s of user CPU; the
 * same download in a process of its own took one collection and 0.1–0.2 s. So each client runs
 * as a program using it would: the TFTCP client without the SDK, the SDK without the TFTCP client.
 */
export class ClientProcess {
  readonly #child: ChildProcess;
  #busy = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Starts the process (with this process's Node flags, so the tsx loader too), owned by `owner`. */
  static async start(owner: Owner): Promise<ClientProcess> {
    const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    owner.after(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      // The child ends when its channel closes; one whose channel is already gone is stopped.
      if (child.connected) child.disconnect();
      else child.kill();
      await exited;
    });
    await once(child, 'spawn');
    return new ClientProcess(child);
  }

  /** The process's id. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Runs one transfer in the process; its MB/s, timed there. */
  run(job: ClientJob): Promise<number> {
    if (this.#busy) throw new Error('a client process runs one transfer at a time');
    this.#busy = true;
    const child = this.#child;
    return new Promise<number>((resolve, reject) => {
      const onMessage = (answer: ClientAnswer) => {
        settle();
        if ('error' in answer) reject(new Error(`${job.op}: ${answer.error}`));
        else resolve(answer.mbps);
      };
      const onExit = (code: number | null, signal: string | null) => {
        settle();
        reject(new Error(`${job.op}: the client process ended (${signal ?? `exit ${code}`}) before its answer`));
      };
      const settle = () => {
        this.#busy = false;
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(job);
    });
  }
}
