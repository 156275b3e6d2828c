import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { runCommand, type CliOutput, type Session } from './commands.js';

/** The interactive prompt. */
export const CLIENT_PROMPT = '>> ';

/** Runs the `>> ` prompt until `exit` or end of input; commands run one at a time. */
export async function runRepl(session: Session, input: Readable, output: Writable, io: CliOutput, terminal: boolean): Promise<void> {
  const rl = readline.createInterface({ input, output, terminal, prompt: CLIENT_PROMPT });
  io.out(`Connected to ${session.host}:${session.port}. Type help for the commands.`);
  rl.prompt();
  // Ctrl-C at the prompt leaves like exit does.
  rl.on('SIGINT', () => rl.close());
  try {
    for await (const line of rl) {
      const outcome = await runCommand(session, line, io);
      if (outcome.quit) break;
      if (!session.connected && line.trim() !== '') io.err(`Not connected; the next command reconnects to ${session.host}:${session.port}.`);
      rl.prompt();
    }
  } finally {
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
