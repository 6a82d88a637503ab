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
