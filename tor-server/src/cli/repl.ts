import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { runCommand, type CliOutput, type Session } from './commands.js';

/** The interactive prompt. */
export const CLIENT_PROMPT = '>> ';

/**
 * Runs the `>> ` prompt until `exit` or end of input; commands run one at a time. Ctrl-C
 * cancels the command in progress and the prompt carries on; at an idle prompt it leaves,
 * as exit does.
 */
export async function runRepl(session: Session, input: Readable, output: Writable, io: CliOutput, terminal: boolean): Promise<void> {
  const rl = readline.createInterface({ input, output, terminal, prompt: CLIENT_PROMPT });
  io.out(`Connected to ${session.host}:${session.port}. Type help for the commands.`);
  rl.prompt();
  let running: AbortController | undefined;
  const interrupt = () => (running ? running.abort() : rl.close());
  // At a terminal readline reads Ctrl-C as a key; otherwise it comes as the signal.
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
  try {
    for await (const line of rl) {
      running = new AbortController();
      let outcome;
      try {
        outcome = await runCommand(session, line, io, running.signal);
      } finally {
        running = undefined;
      }
      if (outcome.quit) break;
      if (!session.connected && !outcome.cancelled && line.trim() !== '') io.err(`Not connected; the next command reconnects to ${session.host}:${session.port}.`);
      rl.prompt();
    }
  } finally {
    process.off('SIGINT', interrupt);
    rl.close();
    await session.close();
  }
}

/** Asks a question at the terminal, with a default for an empty answer. */
export async function ask(input: Readable, output: Writable, question: string, fallback: string): Promise<string> {
  const rl = readline.createInterface({ input, output, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [${fallback}]: `, resolve));
    return answer.trim() || fallback;
  } finally {
    rl.close();
  }
}
