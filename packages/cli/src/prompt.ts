import { CliError, UsageError } from './cli-error.js';

/** The bits of a TTY stdin the hidden prompt needs (process.stdin satisfies it). */
export interface TtyInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/**
 * Reads one line from a terminal without echoing it (for passwords): raw mode, Enter ends,
 * Backspace edits, Ctrl-C aborts with exit 130, Ctrl-D on an empty line aborts. The terminal is
 * restored whatever happens.
 */
export function promptHidden(prompt: string, input: TtyInput, output: { write(s: string): unknown }): Promise<string> {
  if (!input.isTTY || !input.setRawMode) throw new UsageError('cannot prompt for a password: stdin is not a terminal');
  const setRawMode = input.setRawMode.bind(input);
  output.write(prompt);
  setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (err: Error | null) => {
      input.removeListener('data', onData);
      setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new CliError('cancelled', 130));
        if (ch === '\u0004') {
          if (value === '') return finish(new CliError('cancelled', 130));
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          value = [...value].slice(0, -1).join('');
          continue;
        }
        // Other control characters (arrow keys' escape sequences) are not part of a password.
        if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

/**
 * Reads all of stdin as UTF-8 and drops one trailing line break, the way `echo pw |` and
 * here-strings deliver a secret (`--password-stdin`).
 */
export async function readStdinSecret(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * Reads one line typed at a terminal, echoed as usual (for confirmations). The line ends at
 * Enter; Ctrl-D (end of input) before it aborts with exit 130. Throws a UsageError when stdin is
 * not a terminal.
 */
export function promptLine(prompt: string, input: TtyInput, output: { write(s: string): unknown }): Promise<string> {
  if (!input.isTTY) throw new UsageError('cannot ask for confirmation: stdin is not a terminal');
  output.write(prompt);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const finish = (err: Error | null) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.pause();
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      const text = String(chunk);
      const eol = text.search(/\r?\n|\r/);
      if (eol === -1) {
        value += text;
        return;
      }
      value += text.slice(0, eol);
      finish(null);
    };
    const onEnd = () => {
      output.write('\n');
      finish(new CliError('cancelled', 130));
    };
    input.on('data', onData);
    input.on('end', onEnd);
  });
}

/**
 * Guards a destructive command: passes with `--yes`; otherwise, at a terminal, asks the user to
 * type `name` back and aborts (exit 1) on anything else; without a terminal refuses with a usage
 * error (exit 2) that names `--yes`, so scripts never hang on a prompt nor delete by accident.
 */
export async function confirmByName(
  io: { stdin: TtyInput; stderr: { write(s: string): unknown } },
  opts: { yes?: boolean; what: string; name: string },
): Promise<void> {
  if (opts.yes) return;
  if (!io.stdin.isTTY) {
    throw new UsageError(`refusing to ${opts.what} without confirmation; pass --yes (stdin is not a terminal)`);
  }
  const answer = await promptLine(`This will ${opts.what}. Type "${opts.name}" to confirm: `, io.stdin, io.stderr);
  if (answer.trim() !== opts.name) throw new CliError('not confirmed; nothing was changed');
}
