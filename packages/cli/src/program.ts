import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { CliContext, GlobalFlags } from './cli-context.js';
import { EXIT, describeError } from './cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from './command-options.js';
import {
  cancelJob,
  getJob,
  jobLogs,
  JOB_STATES,
  listJobs,
  runJob,
  type ListFlags,
  type RunFlags,
} from './commands/jobs.js';
import { registerArtifactCommands } from './commands/artifacts.js';
import { registerAuditCommands } from './commands/audit.js';
import { login, type LoginFlags } from './commands/login.js';
import { logout } from './commands/logout.js';
import { registerModelCommands } from './commands/models.js';
import { registerProjectCommands } from './commands/projects.js';
import { registerServingCommands } from './commands/serving.js';
import { registerTeamCommands } from './commands/teams.js';
import { registerTrackingCommands } from './commands/tracking.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import { registerWebhookCommands } from './commands/webhooks.js';
import { whoami } from './commands/whoami.js';

function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function jsonValue(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON (${(err as Error).message})`);
  }
}

/** Holds what an action decided beyond success/failure: `hangar server` keeps the process alive. */
interface RunState {
  exitCode: number | null;
  command: string;
}

/**
 * Builds the `hangar` commander program. Commands write through `ctx`; parse errors throw
 * CommanderError (exitOverride) so the caller decides the exit code.
 */
export function buildProgram(ctx: CliContext, state: RunState = { exitCode: EXIT.ok, command: '' }): Command {
  const program = new Command('hangar')
    .description(
      'Hangar MLOps platform: start the server, log in, run and follow jobs, search runs, move artifacts, manage registered models and releases and webhooks, manage users, teams, projects, tokens and the audit log.',
    )
    .version(cliVersion(), '-V, --version', 'print the CLI version')
    .helpCommand('help [command]', 'show help for a command')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
      outputError: (s, write) => write(`hangar: ${s.replace(/^error: /, '')}`),
    })
    .hook('preAction', (_program, action) => {
      state.command = action.name();
    })
    .addHelpText(
      'after',
      `
Environment:
  HANGAR_URL, HANGAR_TOKEN   server and token (override the stored login; --url/--token override these)
  HANGAR_CONFIG_DIR          where credentials.json lives (default ~/.config/hangar)

Exit codes: 0 ok, 1 API or runtime error (or a failed job), 2 usage error, 3 not logged in / not authenticated.`,
    );
  withGlobalOptions(program);

  program
    .command('server')
    .description('run the Hangar server (API, serving gateway and workers) in the foreground')
    .argument('[flags...]', 'server flags, e.g. --port 8080 --data-dir .hangar --role api (see docs/operations)')
    .allowUnknownOption()
    .passThroughOptions()
    .helpOption(false)
    .action(async (flags: string[]) => {
      // Loaded on demand: the server pulls in Fastify, SQLite and the rest, which other commands never need.
      const { runServer } = await import('@hangar/server');
      state.exitCode = await runServer(flags, ctx.env);
    });

  program
    .command('login')
    .description('log in to a server and store an API token (never the password)')
    .option('--url <url>', 'server URL, e.g. http://127.0.0.1:8080 (default: $HANGAR_URL)')
    .option('--token <token>', 'an existing API token to store')
    .option('--username <user>', 'log in with a password; a new token named cli@<hostname> is created and stored')
    .option(
      '--password <password>',
      'the password (visible in the process list; prefer --password-stdin or the prompt)',
    )
    .option('--password-stdin', 'read the password from stdin')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => login(ctx, flagsOf<LoginFlags>(cmd)));

  program
    .command('logout')
    .description('revoke the token login created and delete the stored credentials')
    .option('--json', 'print machine-readable JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => logout(ctx, flagsOf<{ json?: boolean }>(cmd)));

  withGlobalOptions(program.command('whoami').description('show who the current credentials belong to')).action(
    async (_opts: unknown, cmd: Command) => whoami(ctx, flagsOf<GlobalFlags>(cmd)),
  );

  const jobs = program.command('jobs').description('list, inspect, follow, cancel and run background jobs');
  withGlobalOptions(
    jobs
      .command('list')
      .description('list jobs, newest first')
      .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
      .option('--kind <kind>', 'only jobs of this kind, e.g. system.exec')
      .option('--limit <n>', 'show at most n jobs (default 50)', positiveInt(100_000))
      .option('--all', 'show every job (all pages)')
      .option('--cursor <cursor>', 'continue after a previous listing (its nextCursor)'),
  ).action(async (_opts: unknown, cmd: Command) => listJobs(ctx, flagsOf<ListFlags>(cmd)));

  withGlobalOptions(jobs.command('get').description("show one job's details").argument('<id>', 'job id')).action(
    async (id: string, _opts: unknown, cmd: Command) => getJob(ctx, id, flagsOf<GlobalFlags>(cmd)),
  );

  withGlobalOptions(
    jobs
      .command('logs')
      .description("print a job's log")
      .argument('<id>', 'job id')
      .option('-f, --follow', 'keep printing until the job finishes'),
  ).action(async (id: string, _opts: unknown, cmd: Command) =>
    jobLogs(ctx, id, flagsOf<GlobalFlags & { follow?: boolean }>(cmd)),
  );

  withGlobalOptions(
    jobs.command('cancel').description('cancel a queued or running job').argument('<id>', 'job id'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => cancelJob(ctx, id, flagsOf<GlobalFlags>(cmd)));

  withGlobalOptions(
    jobs
      .command('run')
      .description('enqueue a job; with --wait, stream its log and exit non-zero unless it succeeds')
      .requiredOption('--kind <kind>', 'job kind, e.g. system.noop or system.exec')
      .option('--payload <json>', 'job payload as JSON, e.g. \'{"command":["sh","-c","echo hi"]}\'', jsonValue)
      .option('--priority <n>', 'higher runs first (-1000..1000)', integer)
      .option('--max-attempts <n>', 'attempts before the job fails for good', positiveInt(100))
      .option('-w, --wait', 'follow the log until the job finishes'),
  ).action(async (_opts: unknown, cmd: Command) => runJob(ctx, flagsOf<RunFlags>(cmd)));

  registerUserCommands(program, ctx);
  registerTeamCommands(program, ctx);
  registerProjectCommands(program, ctx);
  registerTrackingCommands(program, ctx);
  registerArtifactCommands(program, ctx);
  registerModelCommands(program, ctx);
  registerServingCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerWebhookCommands(program, ctx);

  return program;
}

/** The real process surroundings. */
export function processContext(): CliContext {
  return {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    hostname: hostname(),
  };
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code, or null when the
 * command keeps running in the background of this process (`hangar server`). Expected failures
 * print one `hangar: ...` line on stderr; usage errors exit 2, authentication problems 3, API
 * and runtime errors 1.
 */
export async function runCli(argv: string[], ctx: CliContext = processContext()): Promise<number | null> {
  const state: RunState = { exitCode: EXIT.ok, command: '' };
  const program = buildProgram(ctx, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version are successes; commander already printed any usage problem.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      return EXIT.usage;
    }
    const { message, exitCode } = describeError(err, {
      duringLogin: state.command === 'login',
      debug: Boolean(ctx.env.HANGAR_DEBUG),
    });
    ctx.stderr.write(`hangar: ${message}\n`);
    return exitCode;
  }
}
