import type { CreateWebhookBody, Webhook, WebhookDelivery } from '@hangar/sdk';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, formatKeyValues, formatTable, formatTime } from '../output.js';
import { collectPages } from '../paging.js';
import { confirmByName, readStdinSecret } from '../prompt.js';

type WebhookEvent = CreateWebhookBody['events'][number];

/**
 * The event types a webhook can subscribe to; `*` is all of them. A record over the SDK's type, so
 * an event type the server adds fails the CLI's typecheck until it is listed here too.
 */
const KNOWN_EVENTS: Record<WebhookEvent, true> = {
  'model_version.created': true,
  'gate.passed': true,
  'gate.failed': true,
  'approval.requested': true,
  'approval.granted': true,
  'approval.rejected': true,
  'release.promoted': true,
  'release.rolled_back': true,
  '*': true,
};
export const WEBHOOK_EVENTS = Object.keys(KNOWN_EVENTS) as WebhookEvent[];

/** The API's largest page of deliveries. */
const MAX_PAGE = 500;

interface ProjectFlags extends GlobalFlags {
  project: string;
}

const eventsOf = (w: Webhook) => (w.events.includes('*') ? '*' : w.events.join(','));

/**
 * `--events a,b`: each a known event type (or `*`), in the order given without repeats. A typo
 * is a usage error (exit 2) naming the known types, before anything is sent.
 */
export function parseEvents(value: string): WebhookEvent[] {
  const known = new Set<string>(WEBHOOK_EVENTS);
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError('name at least one event type, or * for all');
  for (const e of items) {
    if (!known.has(e)) {
      throw new InvalidArgumentError(`unknown event type "${e}"; known: ${WEBHOOK_EVENTS.join(', ')}`);
    }
  }
  return [...new Set(items)] as WebhookEvent[];
}

/**
 * A URL argument must at least be an absolute http(s) URL; which hosts are allowed is the
 * server's call (it refuses private addresses unless an admin allows them).
 */
export function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`not an absolute URL: "${value}" (e.g. https://hooks.example.com/hangar)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`webhook URLs are http or https, not ${url.protocol} ("${value}")`);
  }
  return value;
}

function describeWebhook(w: Webhook): [string, unknown][] {
  return [
    ['id', w.id],
    ['url', w.url],
    ['events', eventsOf(w)],
    ['enabled', w.active ? 'yes' : 'no'],
    ['description', w.description],
    ['created', `${formatTime(w.createdAt)} by ${w.createdBy}`],
  ];
}

/** `hangar webhooks list`: a project's webhooks (maintainers); never their secrets. */
export async function listWebhooks(ctx: CliContext, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items } = await client.listWebhooks({ project: flags.project });
  new Output(ctx, flags.json === true).result({ items }, () =>
    items.length === 0
      ? `No webhooks in ${flags.project}.\n`
      : formatTable(
          ['id', 'url', 'events', 'enabled', 'description', 'created'],
          items.map((w) => [w.id, w.url, eventsOf(w), w.active ? 'yes' : 'no', w.description, formatTime(w.createdAt)]),
        ),
  );
}

export interface CreateWebhookFlags extends ProjectFlags {
  events: WebhookEvent[];
  description?: string;
  secretStdin?: boolean;
  disabled?: boolean;
}

/**
 * `hangar webhooks create URL [--events a,b] [--secret-stdin] [--description D] [--disabled]`:
 * prints the webhook and its signing secret, which the server shows only this once (with --json,
 * the `secret` field). Without --secret-stdin the server generates the secret.
 */
export async function createWebhook(ctx: CliContext, url: string, flags: CreateWebhookFlags): Promise<void> {
  checkUrl(url);
  let secret: string | undefined;
  if (flags.secretStdin) {
    secret = await readStdinSecret(ctx.stdin);
    if (!secret) throw new UsageError('--secret-stdin: stdin was empty');
  }
  const { client } = resolveConnection(flags, ctx.env);
  const created = await client.createWebhook({
    project: flags.project,
    body: {
      url,
      events: flags.events,
      ...(secret !== undefined ? { secret } : {}),
      ...(flags.description !== undefined ? { description: flags.description } : {}),
      ...(flags.disabled ? { active: false } : {}),
    },
  });
  const out = new Output(ctx, flags.json === true);
  const shown = describeWebhook(created.webhook);
  // A secret the user gave is not echoed back to their terminal.
  if (secret === undefined) shown.push(['secret', created.secret]);
  out.result(created, () => formatKeyValues(shown));
  if (secret === undefined) {
    out.note('hangar: copy the signing secret now: it will not be shown again');
  }
}

/** `hangar webhooks delete ID [--yes]`: the webhook and its delivery log. */
export async function deleteWebhook(
  ctx: CliContext,
  id: string,
  flags: ProjectFlags & { yes?: boolean },
): Promise<void> {
  await confirmByName(ctx, { yes: flags.yes, what: `delete webhook ${id} and its delivery log`, name: id });
  const { client } = resolveConnection(flags, ctx.env);
  await client.deleteWebhook({ project: flags.project, id });
  new Output(ctx, flags.json === true).result({ deleted: true, id }, () => `Deleted webhook ${id}.\n`);
}

export interface DeliveriesFlags extends ProjectFlags {
  limit?: number;
  all?: boolean;
  cursor?: string;
}

function deliveryRow(d: WebhookDelivery): unknown[] {
  return [
    d.id,
    d.eventType,
    d.status,
    d.attempts,
    d.responseStatus,
    d.error,
    d.durationMs === null ? null : `${d.durationMs}ms`,
    formatTime(d.createdAt),
    formatTime(d.updatedAt),
  ];
}
const DELIVERY_HEADERS = ['id', 'event', 'status', 'attempts', 'http', 'error', 'took', 'created', 'updated'];

/**
 * `hangar webhooks deliveries ID`: the delivery log, newest first, up to `--limit` (default 50) or
 * every page with `--all`. JSON output is `{ items, nextCursor }`, each item with the body sent.
 */
export async function listDeliveries(ctx: CliContext, id: string, flags: DeliveriesFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const { items, nextCursor } = await collectPages(
    (cursor, limit) => client.listWebhookDeliveries({ project: flags.project, id, cursor, limit }),
    { max: flags.all ? Number.POSITIVE_INFINITY : (flags.limit ?? 50), pageSize: MAX_PAGE, cursor: flags.cursor },
  );
  const out = new Output(ctx, flags.json === true);
  out.result({ items, nextCursor: nextCursor ?? null }, () =>
    items.length === 0
      ? `Webhook ${id} has no deliveries yet.\n`
      : formatTable(DELIVERY_HEADERS, items.map(deliveryRow)),
  );
  if (nextCursor && !out.json) out.note(`(${items.length} shown; more with --all, or --cursor ${nextCursor})`);
}

/**
 * `hangar webhooks test ID`: sends a signed ping now, once, and prints its delivery; exits 1 when
 * the receiver did not accept it (so a script can check a receiver).
 */
export async function testWebhook(ctx: CliContext, id: string, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const d = await client.testWebhook({ project: flags.project, id });
  new Output(ctx, flags.json === true).result(d, () => formatTable(DELIVERY_HEADERS, [deliveryRow(d)]));
  if (d.status !== 'delivered') {
    throw new CliError(`the ping was not delivered: ${d.error ?? `HTTP ${d.responseStatus ?? '-'}`}`);
  }
}

const projectOption = () => new Option('-p, --project <project>', 'the project (default: default)').default('default');

/** Adds `hangar webhooks ...` to `program`. */
export function registerWebhookCommands(program: Command, ctx: CliContext): void {
  const webhooks = program
    .command('webhooks')
    .description("a project's webhooks and their delivery logs (maintainers)");

  withGlobalOptions(
    webhooks.command('list').description("a project's webhooks (never their secrets)").addOption(projectOption()),
  ).action(async (_opts: unknown, cmd: Command) => listWebhooks(ctx, flagsOf<ProjectFlags>(cmd)));

  withGlobalOptions(
    webhooks
      .command('create')
      .description('subscribe a URL to events; the signing secret is printed once')
      .argument('<url>', 'where events are POSTed, e.g. https://hooks.example.com/hangar')
      .addOption(projectOption())
      .addOption(
        new Option('-e, --events <types>', `comma-separated event types, or * for all (${WEBHOOK_EVENTS.join(', ')})`)
          .argParser(parseEvents)
          .default(['*'], '*'),
      )
      .option(
        '--secret-stdin',
        'read your own signing secret (16-256 characters) from stdin instead of a generated one',
      )
      .option('--description <text>', 'who receives it and why')
      .option('--disabled', 'create it disabled (no deliveries until enabled)'),
  ).action(async (url: string, _opts: unknown, cmd: Command) =>
    createWebhook(ctx, url, flagsOf<CreateWebhookFlags>(cmd)),
  );

  withGlobalOptions(
    webhooks
      .command('delete')
      .description('delete a webhook and its delivery log')
      .argument('<id>', 'webhook id (see webhooks list)')
      .addOption(projectOption())
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) =>
    deleteWebhook(ctx, id, flagsOf<ProjectFlags & { yes?: boolean }>(cmd)),
  );

  withGlobalOptions(
    webhooks
      .command('deliveries')
      .description("a webhook's delivery log, newest first: event, status, attempts, HTTP status, error")
      .argument('<id>', 'webhook id (see webhooks list)')
      .addOption(projectOption())
      .option('--limit <n>', 'show at most n deliveries (default 50)', positiveInt(1_000_000))
      .option('--all', 'show every delivery (all pages)')
      .option('--cursor <cursor>', 'continue after a previous listing (its nextCursor)'),
  ).action(async (id: string, _opts: unknown, cmd: Command) => listDeliveries(ctx, id, flagsOf<DeliveriesFlags>(cmd)));

  withGlobalOptions(
    webhooks
      .command('test')
      .description('send a signed ping now, once; exits 1 unless the receiver accepts it')
      .argument('<id>', 'webhook id (see webhooks list)')
      .addOption(projectOption()),
  ).action(async (id: string, _opts: unknown, cmd: Command) => testWebhook(ctx, id, flagsOf<ProjectFlags>(cmd)));
}
