import { readFileSync } from 'node:fs';
import {
  HangarApiError,
  type AddPredictionLabelsBody,
  type CreateDeploymentBody,
  type Deployment,
  type GetShadowReportResponse,
  type HangarClient,
  type Rollout,
  type StartRolloutBody,
} from '@hangar/sdk';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliContext, GlobalFlags } from '../cli-context.js';
import { CliError, UsageError } from '../cli-error.js';
import { flagsOf, positiveInt, withGlobalOptions } from '../command-options.js';
import { resolveConnection } from '../connection.js';
import { Output, cell, formatJson, formatKeyValues, formatTable, formatTime } from '../output.js';
import { confirmByName } from '../prompt.js';

export const RUNTIMES = ['auto', 'onnx', 'process', 'external'] as const satisfies readonly Deployment['runtime'][];
export const DEPLOY_ENVIRONMENTS = ['production', 'staging'] as const satisfies readonly Deployment['environment'][];
export const STRATEGIES = ['canary', 'shadow'] as const;
export const ROLLOUT_ACTIONS = ['promote', 'pause', 'resume', 'abort'] as const;
type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

interface ProjectFlags extends GlobalFlags {
  project: string;
}

export interface TrafficSplit {
  version: number;
  weight: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A version number: a whole number from 1. `what` names the argument in the error. */
function versionNumber(value: string, what = 'version'): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${what} must be a whole number from 1, not ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * Parses a traffic split given as `VERSION=WEIGHT` items (`1=90 2=10`, or `1=90,2=10` in one
 * argument); a single bare version (`3`) means all traffic to it. Throws a UsageError naming the
 * item for anything else, and when the weights do not sum to 100 or a version appears twice (the
 * server checks too, but a typo should not cost a round trip).
 */
export function parseSplit(items: string[]): TrafficSplit[] {
  const parts = items.flatMap((i) => i.split(',')).map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new UsageError('give the split as VERSION=WEIGHT items, e.g. 1=90 2=10');
  }
  if (parts.length === 1 && /^\d+$/.test(parts[0]!)) return [{ version: versionNumber(parts[0]!), weight: 100 }];
  const split = parts.map((p) => {
    const m = /^(\d+)=(\d+)$/.exec(p);
    if (!m) throw new UsageError(`traffic item ${JSON.stringify(p)} is not VERSION=WEIGHT (e.g. 2=10)`);
    const weight = Number(m[2]);
    if (weight > 100) throw new UsageError(`traffic item ${JSON.stringify(p)}: the weight must be 0 to 100`);
    return { version: versionNumber(m[1]!, `traffic item ${JSON.stringify(p)}: the version`), weight };
  });
  const seen = new Set<number>();
  for (const s of split) {
    if (seen.has(s.version)) throw new UsageError(`version ${s.version} appears twice in the split`);
    seen.add(s.version);
  }
  const total = split.reduce((a, s) => a + s.weight, 0);
  if (total !== 100) throw new UsageError(`the weights must sum to 100, not ${total}`);
  return split;
}

/** Canary steps as `1,10,50,100`: increasing percentages ending at 100. */
export function parseSteps(value: string): number[] {
  const steps = value.split(',').map((s) => s.trim());
  const numbers = steps.map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 100) {
      throw new UsageError(`--steps: ${JSON.stringify(s)} is not a percentage from 1 to 100`);
    }
    return n;
  });
  numbers.forEach((n, i) => {
    if (i > 0 && n <= numbers[i - 1]!) throw new UsageError('--steps must increase, e.g. 1,10,50,100');
  });
  if (numbers.at(-1) !== 100) throw new UsageError('--steps must end at 100 (the promotion)');
  if (numbers.length < 2) throw new UsageError('--steps needs at least one step below 100 to analyse');
  return numbers;
}

/** A split for people: `v1 90% · v2 10%`. */
export function formatTraffic(traffic: readonly TrafficSplit[]): string {
  return traffic.map((t) => `v${t.version} ${t.weight}%`).join(' · ');
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${Number(x.toFixed(2))}ms`);

/** One line about a rollout: `canary v2 running, step 2 of 4 (10%)`. */
export function rolloutSummary(r: Rollout): string {
  const steps = Array.isArray(r.config.steps) ? (r.config.steps as number[]) : null;
  if (r.strategy === 'shadow') {
    const percent = typeof r.config.percent === 'number' ? ` (${r.config.percent}% of traffic)` : '';
    return `shadow v${r.candidateVersion} ${r.status}${percent}`;
  }
  const live = r.status === 'running' || r.status === 'paused';
  const step = live && r.step && steps ? `, step ${r.step.index + 1} of ${steps.length} (${r.step.percent}%)` : '';
  return `canary v${r.candidateVersion} ${r.status}${step}`;
}

function describeDeployment(d: Deployment): string {
  return formatKeyValues([
    ['deployment', d.name],
    ['project', d.project],
    ['model', d.model],
    ['environment', d.environment],
    ['status', d.status],
    ...(d.failure ? ([['failure', d.failure]] as [string, unknown][]) : []),
    ['runtime', d.runtime],
    ...(d.external ? ([['external', d.external.url]] as [string, unknown][]) : []),
    ['traffic', formatTraffic(d.traffic)],
    ['shadow', d.shadow ? `v${d.shadow.version} ${d.shadow.percent}%` : null],
    ['stable version', d.stableVersion],
    ['previous version', d.previousVersion],
    ['revision', d.revision],
    ['routing key', d.routingKey ? (d.routingKey.header ?? d.routingKey.field) : null],
    ['batching', d.batching ? `up to ${d.batching.maxBatchSize} rows, ${d.batching.maxDelayMs}ms` : null],
    ['rollout', d.rollout ? rolloutSummary(d.rollout) : null],
    ['created', `${formatTime(d.createdAt)} by ${d.createdBy}`],
    ['updated', formatTime(d.updatedAt)],
  ]);
}

/** A rollout for people: its state, then one row per analysed step. */
export function describeRollout(r: Rollout): string {
  const pairs: [string, unknown][] = [
    ['rollout', r.id],
    ['strategy', r.strategy],
    ['status', r.status],
    ['candidate', `v${r.candidateVersion}`],
    ['stable', `v${r.stableVersion}`],
  ];
  const steps = Array.isArray(r.config.steps) ? (r.config.steps as number[]) : null;
  if (r.strategy === 'canary') {
    // A finished rollout keeps its last step; showing it as current would mislead.
    if (r.status === 'running' || r.status === 'paused') {
      pairs.push([
        'step',
        r.step && steps
          ? `${r.step.index + 1} of ${steps.length}: ${r.step.percent}% since ${formatTime(r.step.startedAt)}`
          : null,
      ]);
    }
    if (steps) pairs.push(['steps', steps.map((s) => `${s}%`).join(' → ')]);
    if (typeof r.config.stepSeconds === 'number') pairs.push(['step seconds', r.config.stepSeconds]);
  } else if (typeof r.config.percent === 'number') {
    pairs.push(['percent', `${r.config.percent}%`]);
  }
  if (r.reason) pairs.push(['reason', r.reason]);
  pairs.push(['started', `${formatTime(r.createdAt)} by ${r.createdBy}`]);
  if (r.finishedAt) pairs.push(['finished', formatTime(r.finishedAt)]);
  let text = formatKeyValues(pairs);
  if (r.analyses.length > 0) {
    text += `\n${formatTable(
      [
        'step',
        'percent',
        'decision',
        'stable req',
        'cand req',
        'stable err',
        'cand err',
        'stable p99',
        'cand p99',
        'shift',
        'live',
        'checks',
      ],
      r.analyses.map((a) => [
        a.step + 1,
        `${a.percent}%`,
        a.decision,
        a.stable.requests,
        a.candidate.requests,
        pct(a.stable.errorRate),
        pct(a.candidate.errorRate),
        ms(a.stable.p99Ms),
        ms(a.candidate.p99Ms),
        a.shift ? `${a.shift.method} ${a.shift.value.toFixed(3)}` : null,
        liveCell(a.live ?? null),
        a.checks.map((c) => `${c.name} ${c.passed ? 'pass' : 'FAIL'}`).join(', ') || null,
      ]),
    )}`;
    const last = r.analyses.at(-1)!;
    if (last.reason) text += `last analysis: ${cell(last.reason)}\n`;
  } else if (r.strategy === 'canary') {
    text += '\nNo step analysed yet.\n';
  }
  return text;
}

function describeShadowReport(s: GetShadowReportResponse): string {
  return `\nshadow report:\n${formatKeyValues([
    ['requests', s.requests],
    ['compared', s.compared],
    ['shadow errors', s.shadowErrors],
    ['agreement', pct(s.agreementRate)],
    [
      'output delta',
      s.outputDelta
        ? `mean ${s.outputDelta.mean.toPrecision(3)}, p99 ${s.outputDelta.p99 === null ? '-' : s.outputDelta.p99.toPrecision(3)}, max ${s.outputDelta.max.toPrecision(3)}`
        : null,
    ],
    ['latency delta', `p50 ${ms(s.latencyDeltaMs.p50)}, p99 ${ms(s.latencyDeltaMs.p99)}`],
  ])
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}`;
}

// ---- deploy, deployments ----

export interface DeployFlags extends ProjectFlags {
  model: string;
  version: string;
  environment: Deployment['environment'];
  runtime?: Deployment['runtime'];
  externalUrl?: string;
  wait?: boolean;
  timeout?: number;
}

/**
 * Polls a deployment until it leaves `deploying`, at most `timeoutS` seconds. Returns the
 * deployment as last seen; throws a CliError when it is still loading at the deadline.
 */
async function waitForDeployment(
  client: HangarClient,
  project: string,
  name: string,
  timeoutS: number,
): Promise<Deployment> {
  const deadline = Date.now() + timeoutS * 1000;
  for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
    const d = await client.getDeployment({ project, name });
    if (d.status !== 'deploying') return d;
    if (Date.now() + delay > deadline) {
      throw new CliError(
        `deployment ${name} is still deploying after ${timeoutS}s; check: hangar deployments get ${name}`,
      );
    }
    await sleep(delay);
  }
}

/**
 * `hangar deploy NAME --model M --version V`: creates a deployment (maintainers). With --wait,
 * polls until it is ready (exit 0) or failed (exit 1 with the reason).
 */
export async function deploy(ctx: CliContext, name: string, flags: DeployFlags): Promise<void> {
  const versions = parseSplit([flags.version]);
  let runtime = flags.runtime;
  if (flags.externalUrl !== undefined) {
    if (runtime !== undefined && runtime !== 'external') {
      throw new UsageError(`--external-url goes with --runtime external, not --runtime ${runtime}`);
    }
    runtime = 'external';
  } else if (runtime === 'external') {
    throw new UsageError('--runtime external needs --external-url (the Open Inference Protocol server to forward to)');
  }
  const body: CreateDeploymentBody = {
    name,
    model: flags.model,
    environment: flags.environment,
    versions,
    ...(runtime ? { runtime } : {}),
    ...(flags.externalUrl !== undefined ? { external: { url: flags.externalUrl } } : {}),
  };
  const { client } = resolveConnection(flags, ctx.env);
  const out = new Output(ctx, flags.json === true);
  let d = await client.createDeployment({ project: flags.project, body });
  if (flags.wait) {
    if (!out.json) out.note(`Waiting for ${name} to load...`);
    d = await waitForDeployment(client, flags.project, name, flags.timeout ?? 600);
  }
  out.result(d, () => describeDeployment(d));
  if (d.status === 'failed') throw new CliError(`deployment ${name} failed: ${d.failure ?? 'no reason given'}`);
  if (!flags.wait && !out.json) out.note(`Loading in the background; follow with: hangar deployments get ${name}`);
}

/** `hangar deployments list`: a project's deployments with their split, shadow and rollout. */
export async function listDeployments(ctx: CliContext, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.listDeployments({ project: flags.project });
  new Output(ctx, flags.json === true).result(r, () =>
    r.deployments.length === 0
      ? `No deployments in ${flags.project}.\n`
      : formatTable(
          ['name', 'model', 'environment', 'status', 'traffic', 'shadow', 'rollout', 'updated'],
          r.deployments.map((d) => [
            d.name,
            d.model,
            d.environment,
            d.status,
            formatTraffic(d.traffic),
            d.shadow ? `v${d.shadow.version} ${d.shadow.percent}%` : null,
            d.rollout ? rolloutSummary(d.rollout) : null,
            formatTime(d.updatedAt),
          ]),
        ),
  );
}

/** `hangar deployments get NAME`. */
export async function getDeployment(ctx: CliContext, name: string, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const d = await client.getDeployment({ project: flags.project, name });
  new Output(ctx, flags.json === true).result(d, () => describeDeployment(d));
}

/** `hangar deployments delete NAME [--yes]`: stops serving it and deletes its history and prediction log. */
export async function deleteDeployment(
  ctx: CliContext,
  name: string,
  flags: ProjectFlags & { yes?: boolean },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  await confirmByName(ctx, {
    yes: flags.yes,
    what: `delete deployment "${name}" with its history and prediction log`,
    name,
  });
  await client.deleteDeployment({ project: flags.project, name });
  new Output(ctx, flags.json === true).result({ name, deleted: true }, () => `Deleted deployment ${name}.\n`);
}

/** `hangar traffic NAME 1=90 2=10`: sets the A/B split (refused while a rollout runs). */
export async function setTraffic(ctx: CliContext, name: string, items: string[], flags: ProjectFlags): Promise<void> {
  const versions = parseSplit(items);
  const { client } = resolveConnection(flags, ctx.env);
  const d = await client.setDeploymentTraffic({ project: flags.project, name, body: { versions } });
  new Output(ctx, flags.json === true).result(
    d,
    () => `${name}: ${formatTraffic(d.traffic)} (revision ${d.revision})\n`,
  );
}

/** `hangar rollback NAME`: all traffic back to the stable version (or the one before the last promotion). */
export async function rollback(ctx: CliContext, name: string, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const d = await client.rollbackDeployment({ project: flags.project, name });
  new Output(ctx, flags.json === true).result(
    d,
    () =>
      `Rolled back ${name}: ${formatTraffic(d.traffic)} (revision ${d.revision})${d.rollout && ['aborted', 'stopped'].includes(d.rollout.status) ? `; rollout ${d.rollout.status}` : ''}\n`,
  );
}

// ---- rollouts ----

export interface RolloutStartFlags extends ProjectFlags {
  version: string;
  strategy: (typeof STRATEGIES)[number];
  steps?: string;
  stepSeconds?: number;
  percent?: number;
  minRequests?: number;
  maxErrorRate?: number;
  maxP99Ms?: number;
  maxP99Ratio?: number;
  maxDistributionShift?: number;
  minLabels?: number;
  maxAccuracyDrop?: number;
  maxMaeIncrease?: number;
}

/** `hangar rollout start NAME --version V --strategy canary|shadow` (maintainers). */
export async function startRollout(ctx: CliContext, name: string, flags: RolloutStartFlags): Promise<void> {
  const version = versionNumber(flags.version);
  let body: StartRolloutBody;
  if (flags.strategy === 'shadow') {
    const canaryOnly = (
      [
        ['--steps', flags.steps],
        ['--step-seconds', flags.stepSeconds],
        ['--min-requests', flags.minRequests],
        ['--max-error-rate', flags.maxErrorRate],
        ['--max-p99-ms', flags.maxP99Ms],
        ['--max-p99-ratio', flags.maxP99Ratio],
        ['--max-distribution-shift', flags.maxDistributionShift],
        ['--min-labels', flags.minLabels],
        ['--max-accuracy-drop', flags.maxAccuracyDrop],
        ['--max-mae-increase', flags.maxMaeIncrease],
      ] as const
    ).find(([, v]) => v !== undefined);
    if (canaryOnly) throw new UsageError(`${canaryOnly[0]} applies to canary rollouts, not shadow`);
    body = { strategy: 'shadow', version, ...(flags.percent !== undefined ? { percent: flags.percent } : {}) };
  } else {
    if (flags.percent !== undefined)
      throw new UsageError('--percent applies to shadow rollouts; a canary takes --steps');
    body = {
      strategy: 'canary',
      version,
      ...(flags.steps !== undefined ? { steps: parseSteps(flags.steps) } : {}),
      ...(flags.stepSeconds !== undefined ? { stepSeconds: flags.stepSeconds } : {}),
      ...(flags.minRequests !== undefined ? { minRequests: flags.minRequests } : {}),
      ...(flags.maxErrorRate !== undefined ? { maxErrorRate: flags.maxErrorRate } : {}),
      ...(flags.maxP99Ms !== undefined ? { maxP99Ms: flags.maxP99Ms } : {}),
      ...(flags.maxP99Ratio !== undefined ? { maxP99Ratio: flags.maxP99Ratio } : {}),
      ...(flags.maxDistributionShift !== undefined ? { maxDistributionShift: flags.maxDistributionShift } : {}),
      ...(flags.minLabels !== undefined ? { minLabels: flags.minLabels } : {}),
      ...(flags.maxAccuracyDrop !== undefined ? { maxAccuracyDrop: flags.maxAccuracyDrop } : {}),
      ...(flags.maxMaeIncrease !== undefined ? { maxMaeIncrease: flags.maxMaeIncrease } : {}),
    };
  }
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.startRollout({ project: flags.project, name, body });
  new Output(ctx, flags.json === true).result(r, () => describeRollout(r));
}

/**
 * `hangar rollout status NAME`: the current or last rollout with each step's analysis, and for a
 * shadow rollout the comparison report. JSON: `{ rollout, shadowReport }` (null for a canary).
 */
export async function rolloutStatus(ctx: CliContext, name: string, flags: ProjectFlags): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const rollout = await client.getRollout({ project: flags.project, name });
  const shadowReport =
    rollout.strategy === 'shadow' ? await client.getShadowReport({ project: flags.project, name }) : null;
  new Output(ctx, flags.json === true).result(
    { rollout, shadowReport },
    () => describeRollout(rollout) + (shadowReport ? describeShadowReport(shadowReport) : ''),
  );
}

/** `hangar rollout promote|pause|resume|abort NAME [--reason R]` (maintainers). */
export async function rolloutAction(
  ctx: CliContext,
  action: RolloutAction,
  name: string,
  flags: ProjectFlags & { reason?: string },
): Promise<void> {
  const { client } = resolveConnection(flags, ctx.env);
  const r = await client.rolloutAction({
    project: flags.project,
    name,
    action,
    body: flags.reason !== undefined ? { reason: flags.reason } : {},
  });
  new Output(ctx, flags.json === true).result(r, () => describeRollout(r));
}

/** A step's live metric, stable / candidate: `acc 92.0%/61.0%`, `mae 1.2/3.4`; null without labels. */
function liveCell(live: Rollout['analyses'][number]['live'] | null): string | null {
  if (!live) return null;
  const v = (x: number | null) => (x === null ? '-' : live.metric === 'accuracy' ? pct(x) : Number(x.toPrecision(3)));
  return `${live.metric === 'accuracy' ? 'acc' : 'mae'} ${v(live.stable.value)}/${v(live.candidate.value)}`;
}

// ---- labels ----

export const LABELS_PER_CALL = 10_000;

type LabelInput = AddPredictionLabelsBody['labels'][number];

export interface LabelsFlags extends ProjectFlags {
  file: string;
}

/**
 * Labels from a file: CSV with a header naming `request_id` (or `requestId`) and `label` (a class)
 * or `value` (a number), or JSON lines of `{"requestId": …, "label": …}` / `{"requestId": …, "value": …}`.
 */
export function parseLabels(text: string): LabelInput[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new UsageError('the labels file is empty');
  if (lines[0]!.trimStart().startsWith('{')) {
    return lines.map((line, i) => {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        throw new UsageError(`line ${i + 1}: not JSON`);
      }
      const r = o as Record<string, unknown>;
      if (typeof r.requestId !== 'string') throw new UsageError(`line ${i + 1}: requestId must be a string`);
      if (r.label !== undefined && typeof r.label !== 'string')
        throw new UsageError(`line ${i + 1}: label must be a string`);
      if (r.value !== undefined && typeof r.value !== 'number')
        throw new UsageError(`line ${i + 1}: value must be a number`);
      return { requestId: r.requestId, label: r.label as string | undefined, value: r.value as number | undefined };
    });
  }
  const header = lines[0]!.split(',').map((h) => h.trim());
  const id = header.findIndex((h) => h === 'request_id' || h === 'requestId');
  const label = header.indexOf('label');
  const value = header.indexOf('value');
  if (id < 0 || label < 0 === value < 0)
    throw new UsageError('the CSV header must name request_id and one of label or value');
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    if (!cells[id]) throw new UsageError(`row ${i + 1}: no request id`);
    if (label >= 0) return { requestId: cells[id]!, label: cells[label] ?? '' };
    const v = Number(cells[value]);
    if (cells[value] === undefined || cells[value] === '' || !Number.isFinite(v))
      throw new UsageError(`row ${i + 1}: value must be a number`);
    return { requestId: cells[id]!, value: v };
  });
}

/** `hangar labels NAME --file F`: sends ground truth for logged predictions, in calls of 10,000. */
export async function sendLabels(ctx: CliContext, name: string, flags: LabelsFlags): Promise<void> {
  const labels = parseLabels(readFileSync(flags.file === '-' ? 0 : flags.file, 'utf8'));
  const { client } = resolveConnection(flags, ctx.env);
  const total = { accepted: 0, matched: 0 };
  for (let i = 0; i < labels.length; i += LABELS_PER_CALL) {
    const r = await client.addPredictionLabels({
      project: flags.project,
      name,
      body: { labels: labels.slice(i, i + LABELS_PER_CALL) },
    });
    total.accepted += r.accepted;
    total.matched += r.matched;
  }
  new Output(ctx, flags.json === true).result(
    total,
    () =>
      `${total.accepted} labels stored; ${total.matched} of them match predictions in the log` +
      (total.matched < total.accepted ? ' (the others are kept and count once their predictions are logged)' : ''),
  );
}

// ---- predict (data plane) ----

export interface PredictFlags extends GlobalFlags {
  body?: string;
  file?: string;
  instances?: string;
  version?: string;
  requestId?: string;
}

function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${what} is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Whether a request body is an Open Inference Protocol request: an object whose `inputs` is a list
 * of tensors (objects with a name). Anything else is a records body for the predict endpoint,
 * which names what it cannot read.
 */
export function isOipBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const inputs = (body as { inputs?: unknown }).inputs;
  return (
    Array.isArray(inputs) &&
    inputs.length > 0 &&
    inputs.every((t) => typeof t === 'object' && t !== null && typeof (t as { name?: unknown }).name === 'string')
  );
}

/** What HTTP statuses of the data plane mean, as the native API's error codes. */
const DATA_PLANE_CODES: Record<number, string> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  500: 'model_error',
  503: 'unavailable',
};

/** The body of a binary-extension answer up to its JSON header, with a note of what was left out. */
function readAnswer(bytes: Buffer, headers: Headers): { answer: unknown; note: string | null } {
  const headerLength = headers.get('inference-header-content-length');
  const json = headerLength === null ? bytes : bytes.subarray(0, Number(headerLength));
  let answer: unknown;
  try {
    answer = JSON.parse(json.toString('utf8'));
  } catch {
    throw new CliError(`the server answered with a body that is not JSON (${bytes.length} bytes)`);
  }
  const rest = bytes.length - json.length;
  return { answer, note: rest > 0 ? `(${rest} bytes of binary tensor data not shown)` : null };
}

/**
 * `hangar predict NAME`: sends one inference request. An OIP body (inputs as tensors) goes to
 * `/v2/models/NAME[/versions/V]/infer`, a records body (instances, dataframe_split,
 * dataframe_records) to `/v1/deployments/NAME/predict`. Prints the answer as JSON on stdout and
 * the request id and serving version on stderr. The data plane's `{"error": "..."}` answers become
 * the usual `hangar: STATUS CODE: message (request id ...)` line.
 */
export async function predict(ctx: CliContext, name: string, flags: PredictFlags): Promise<void> {
  const given = [flags.body, flags.file, flags.instances].filter((v) => v !== undefined).length;
  if (given !== 1)
    throw new UsageError('give the request as exactly one of --json BODY, --file FILE or --instances JSON');
  let body: unknown;
  if (flags.instances !== undefined) {
    const instances = parseJsonArg(flags.instances, '--instances');
    if (!Array.isArray(instances)) throw new UsageError('--instances must be a JSON list of records, e.g. [{"x": 1}]');
    body = { instances };
  } else if (flags.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.file === '-' ? 0 : flags.file, 'utf8');
    } catch (err) {
      throw new UsageError(`--file ${flags.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    body = parseJsonArg(text, `--file ${flags.file}`);
  } else {
    body = parseJsonArg(flags.body!, '--json');
  }
  const oip = isOipBody(body);
  const version = flags.version !== undefined ? versionNumber(flags.version) : undefined;
  if (!oip && version !== undefined) {
    throw new UsageError(
      '--version pins a version for Open Inference Protocol bodies ({"inputs": [tensors]}) only; records go through the traffic split',
    );
  }

  // The SDK's data-plane methods describe the routes but carry no body; send through its transport
  // (same server, token and timeouts) and keep the raw answer for its headers and error shape.
  let raw: Response | undefined;
  const { client } = resolveConnection(flags, ctx.env, {
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      raw = res.clone();
      return res;
    },
  });
  const path = !oip
    ? '/v1/deployments/{name}/predict'
    : version === undefined
      ? '/v2/models/{name}/infer'
      : '/v2/models/{name}/versions/{version}/infer';
  try {
    await client.request(
      { method: 'POST', path, pathParams: { name, version }, body, contentType: 'application/json', response: 'none' },
      flags.requestId ? { headers: { 'x-request-id': flags.requestId } } : {},
    );
  } catch (err) {
    if (err instanceof HangarApiError && err.status > 0 && raw) {
      const text = await raw.text().catch(() => '');
      let message: unknown;
      try {
        message = (JSON.parse(text) as { error?: unknown }).error;
      } catch {
        message = undefined;
      }
      if (typeof message === 'string') {
        throw new HangarApiError({
          status: err.status,
          code: DATA_PLANE_CODES[err.status] ?? `http_${err.status}`,
          message,
          requestId: raw.headers.get('x-request-id'),
          method: err.method,
          url: err.url,
        });
      }
    }
    throw err;
  }
  const res = raw!;
  const { answer, note } = readAnswer(Buffer.from(await res.arrayBuffer()), res.headers);
  const out = new Output(ctx, true);
  out.write(formatJson(answer));
  const a = answer as { id?: unknown; model_version?: unknown };
  const requestId = res.headers.get('x-request-id') ?? (typeof a.id === 'string' ? a.id : null);
  const served =
    res.headers.get('x-hangar-model-version') ?? (typeof a.model_version === 'string' ? a.model_version : null);
  out.note(`request id ${requestId ?? '-'}, version ${served ?? '-'}`);
  if (note) out.note(note);
}

// ---- registration ----

const projectOption = () => new Option('-p, --project <project>', 'the project (default: default)').default('default');

function nonNegative(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) {
      throw new InvalidArgumentError(`expected a number from 0 to ${max}`);
    }
    return n;
  };
}

/**
 * Registers the serving commands: `deploy`, `deployments list|get|delete`, `traffic`,
 * `rollout start|status|promote|pause|resume|abort`, `rollback` and `predict`.
 */
export function registerServingCommands(program: Command, ctx: CliContext): void {
  withGlobalOptions(
    program
      .command('deploy')
      .description('deploy a registered model version behind an endpoint (maintainers)')
      .argument('<name>', 'the deployment: its endpoint and Open Inference Protocol model name, e.g. churn')
      .addOption(projectOption())
      .requiredOption('--model <model>', 'the registered model')
      .requiredOption('--version <version>', 'the version to serve, or an A/B split such as 1=90,2=10')
      .addOption(
        new Option('--environment <environment>', 'staging or production')
          .choices(DEPLOY_ENVIRONMENTS)
          .default('production'),
      )
      .addOption(
        new Option(
          '--runtime <runtime>',
          'how to serve it (auto: ONNX when the version has one, else a model server process)',
        ).choices(RUNTIMES),
      )
      .option('--external-url <url>', 'forward to this Open Inference Protocol server (implies --runtime external)')
      .option('-w, --wait', 'wait until it is ready; exit 1 if it fails to load')
      .option('--timeout <seconds>', 'with --wait, give up after this long (default 600)', positiveInt(86_400)),
  ).action(async (name: string, _opts: unknown, cmd: Command) => deploy(ctx, name, flagsOf<DeployFlags>(cmd)));

  const deployments = program.command('deployments').description('list, inspect and delete deployments');
  withGlobalOptions(
    deployments.command('list').description("a project's deployments").addOption(projectOption()),
  ).action(async (_opts: unknown, cmd: Command) => listDeployments(ctx, flagsOf<ProjectFlags>(cmd)));
  withGlobalOptions(
    deployments
      .command('get')
      .description('a deployment: status, traffic, shadow, current rollout')
      .argument('<name>', 'the deployment')
      .addOption(projectOption()),
  ).action(async (name: string, _opts: unknown, cmd: Command) => getDeployment(ctx, name, flagsOf<ProjectFlags>(cmd)));
  withGlobalOptions(
    deployments
      .command('delete')
      .description('stop serving a deployment and delete it with its history and prediction log (maintainers)')
      .argument('<name>', 'the deployment')
      .addOption(projectOption())
      .option('-y, --yes', 'do not ask for confirmation (needed when stdin is not a terminal)'),
  ).action(async (name: string, _opts: unknown, cmd: Command) =>
    deleteDeployment(ctx, name, flagsOf<ProjectFlags & { yes?: boolean }>(cmd)),
  );

  withGlobalOptions(
    program
      .command('traffic')
      .description('set the A/B split of a deployment, e.g. hangar traffic churn 1=90 2=10 (maintainers)')
      .argument('<name>', 'the deployment')
      .argument('<split...>', 'VERSION=WEIGHT items summing to 100')
      .addOption(projectOption()),
  ).action(async (name: string, split: string[], _opts: unknown, cmd: Command) =>
    setTraffic(ctx, name, split, flagsOf<ProjectFlags>(cmd)),
  );

  withGlobalOptions(
    program
      .command('rollback')
      .description('send all traffic back to the stable version now, ending any rollout (maintainers)')
      .argument('<name>', 'the deployment')
      .addOption(projectOption()),
  ).action(async (name: string, _opts: unknown, cmd: Command) => rollback(ctx, name, flagsOf<ProjectFlags>(cmd)));

  const rollout = program.command('rollout').description('canary and shadow rollouts of a deployment');
  withGlobalOptions(
    rollout
      .command('start')
      .description('start a canary (stepped, analysed, promoted or aborted) or shadow rollout (maintainers)')
      .argument('<name>', 'the deployment')
      .addOption(projectOption())
      .requiredOption('--version <version>', 'the candidate version')
      .addOption(new Option('--strategy <strategy>', 'canary or shadow').choices(STRATEGIES).makeOptionMandatory())
      .option('--steps <percents>', 'canary: traffic percentages per step (default 1,10,50,100)')
      .option('--step-seconds <n>', 'canary: how long each step lasts (default 60)', positiveInt(86_400))
      .option(
        '--min-requests <n>',
        'canary: requests the candidate must serve before a step is judged (default 20)',
        positiveInt(1_000_000),
      )
      .option('--max-error-rate <x>', 'canary: highest candidate error rate, 0 to 1 (default 0.05)', nonNegative(1))
      .option('--max-p99-ms <ms>', 'canary: highest candidate p99 latency (default: off)', nonNegative(3_600_000))
      .option(
        '--max-p99-ratio <x>',
        "canary: highest candidate p99 as a multiple of stable's (default 3)",
        nonNegative(1_000_000),
      )
      .option(
        '--max-distribution-shift <x>',
        'canary: highest prediction distribution shift, 0 to 1 (default 0.2)',
        nonNegative(1),
      )
      .option(
        '--min-labels <n>',
        'canary: labels each version needs in a step before live metrics are compared (default 30)',
        positiveInt(1_000_000),
      )
      .option(
        '--max-accuracy-drop <x>',
        "canary: highest drop of live accuracy below stable's, 0 to 1 (default 0.05)",
        nonNegative(1),
      )
      .option(
        '--max-mae-increase <x>',
        "canary: highest rise of live mean absolute error over stable's, as a fraction (default 0.2)",
        nonNegative(1_000_000),
      )
      .option('--percent <n>', 'shadow: the share of traffic copied to the candidate (default 100)', positiveInt(100)),
  ).action(async (name: string, _opts: unknown, cmd: Command) =>
    startRollout(ctx, name, flagsOf<RolloutStartFlags>(cmd)),
  );
  withGlobalOptions(
    rollout
      .command('status')
      .description("the current or last rollout: step, percent, each step's analysis, the shadow report")
      .argument('<name>', 'the deployment')
      .addOption(projectOption()),
  ).action(async (name: string, _opts: unknown, cmd: Command) => rolloutStatus(ctx, name, flagsOf<ProjectFlags>(cmd)));
  const actionHelp: Record<RolloutAction, string> = {
    promote: 'send all traffic to the candidate now and make it stable (maintainers)',
    pause: 'hold the rollout at its current step (maintainers)',
    resume: 'continue a paused rollout (maintainers)',
    abort: 'end the rollout and send all traffic back to stable (maintainers)',
  };
  for (const action of ROLLOUT_ACTIONS) {
    withGlobalOptions(
      rollout
        .command(action)
        .description(actionHelp[action])
        .argument('<name>', 'the deployment')
        .addOption(projectOption())
        .option('--reason <text>', 'why, for the history'),
    ).action(async (name: string, _opts: unknown, cmd: Command) =>
      rolloutAction(ctx, action, name, flagsOf<ProjectFlags & { reason?: string }>(cmd)),
    );
  }

  withGlobalOptions(
    program
      .command('labels')
      .description(
        'send ground truth for logged predictions by request id (developers); canary steps compare live accuracy on them',
      )
      .argument('<name>', 'the deployment')
      .addOption(projectOption())
      .requiredOption(
        '--file <file>',
        'CSV with request_id and label (or value) columns, or JSON lines {"requestId", "label"|"value"}; - for stdin',
      ),
  ).action(async (name: string, _opts: unknown, cmd: Command) => sendLabels(ctx, name, flagsOf<LabelsFlags>(cmd)));

  // `--json` here is the request body (as the serving docs show), so this command cannot take the
  // global --json switch; its answer is JSON already.
  program
    .command('predict')
    .description('send one inference request to a deployment and print the answer')
    .argument('<name>', 'the deployment')
    .option(
      '--json <body>',
      'the request: an Open Inference Protocol body {"inputs": [tensors]} or a records body {"instances": [...]}',
    )
    .option('--file <file>', 'read the request body from a file (- for stdin)')
    .option('--instances <json>', 'records as a JSON list, e.g. \'[{"age": 41}]\'')
    .option('--version <version>', 'pin a registered version (OIP bodies only; bypasses the traffic split)')
    .option('--request-id <id>', 'the request id to log the prediction under (to join labels later)')
    .option('--url <url>', 'server URL (default: $HANGAR_URL, else the logged-in server)')
    .option('--token <token>', 'API token (default: $HANGAR_TOKEN, else the stored login)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const flags = flagsOf<PredictFlags & { json?: unknown }>(cmd);
      const own = cmd.opts<{ json?: string }>();
      // `hangar --json predict ...` sets the program's boolean switch; only this command's value is a body.
      return predict(ctx, name, { ...flags, body: own.json });
    });
}
