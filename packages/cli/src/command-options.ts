import { Command, InvalidArgumentError } from 'commander';

/** A commander parser for whole numbers from 1 to `max`. */
export function positiveInt(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    }
    return n;
  };
}

/** --json/--url/--token, accepted after any API command as well as before it. */
export function withGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--url <url>', 'server URL (default: $HANGAR_URL, else the logged-in server)')
    .option('--token <token>', 'API token (default: $HANGAR_TOKEN, else the stored login)');
}

/** Option values of the command and its ancestors; the innermost given value wins. */
export function flagsOf<T>(cmd: Command): T {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) for (const [k, v] of Object.entries(c.opts())) if (v !== undefined) merged[k] = v;
  return merged as T;
}
