/** Exit statuses of one-shot mode; CANCELLED is the shells' 128 + SIGINT. */
export const ExitCode = { OK: 0, REFUSED: 1, USAGE: 2, CONNECTION: 3, CANCELLED: 130 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Where a command's output goes. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
  /** Progress bar redraws; undefined when not on a terminal. */
  progress?: (text: string) => void;
}

/** The result of one command: its exit code, and whether the user asked to leave or cancelled it. */
export interface CommandOutcome {
  code: ExitCodeValue;
  quit?: boolean;
  cancelled?: boolean;
}
