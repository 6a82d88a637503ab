import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { CliError, UsageError } from './cli-error.js';
import { confirmByName, promptLine, type TtyInput } from './prompt.js';

function terminal(): PassThrough & TtyInput {
  return Object.assign(new PassThrough(), { isTTY: true });
}

function sink(): { write(s: string): void; text: string } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
    },
  };
}

test('promptLine returns the typed line and writes the prompt', async () => {
  const input = terminal();
  const out = sink();
  const answer = promptLine('Name? ', input, out);
  input.write('pro');
  input.write('ject\nrest');
  assert.equal(await answer, 'project');
  assert.equal(out.text, 'Name? ');
});

test('promptLine: end of input cancels with exit 130; no terminal is a usage error', async () => {
  const input = terminal();
  const answer = promptLine('? ', input, sink());
  input.end();
  await assert.rejects(answer, (e: CliError) => e.exitCode === 130);
  assert.throws(() => promptLine('? ', new PassThrough(), sink()), UsageError);
});

test('confirmByName passes with --yes, or when the name is typed back; refuses anything else', async () => {
  await confirmByName({ stdin: new PassThrough(), stderr: sink() }, { yes: true, what: 'delete x', name: 'x' });
  await assert.rejects(
    confirmByName({ stdin: new PassThrough(), stderr: sink() }, { what: 'delete team "x"', name: 'x' }),
    (e: UsageError) =>
      e instanceof UsageError && /refusing to delete team "x" without confirmation; pass --yes/.test(e.message),
  );

  const yes = terminal();
  const err = sink();
  const ok = confirmByName({ stdin: yes, stderr: err }, { what: 'delete project "ml"', name: 'ml' });
  yes.write('ml\n');
  await ok;
  assert.match(err.text, /This will delete project "ml"\. Type "ml" to confirm: /);

  const no = terminal();
  const refused = confirmByName({ stdin: no, stderr: sink() }, { what: 'delete project "ml"', name: 'ml' });
  no.write('y\n');
  await assert.rejects(refused, (e: CliError) => e.exitCode === 1 && /not confirmed/.test(e.message));
});
