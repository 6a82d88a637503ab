import type { TtyInput } from './prompt.js';

/** The process surroundings a command may use; injected so nothing reads globals directly. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  stdin: TtyInput;
  /** Names the tokens `hangar login` creates (`cli@<hostname>`). */
  hostname: string;
}

/** Options every API command accepts (before or after the command name). */
export interface GlobalFlags {
  json?: boolean;
  url?: string;
  token?: string;
}
