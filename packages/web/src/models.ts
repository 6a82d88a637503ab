// Helpers for the model registry pages: portal paths, the models list's filters (MLflow's search
// grammar, owner team and stage, all applied by the server), and reading versions for display. No DOM or React here, so the unit tests run them in Node.
import type { GetReleaseResponse, ModelVersion, RegisteredModel } from '@hangar/sdk';
import { deploymentPath } from './pages/deployments/deployments.js';
import { datasetPath, loggedModelPath, quoteKey, runPath } from './tracking.js';

export type Stage = ModelVersion['stage'];
export type RiskTier = RegisteredModel['riskTier'];

/** MLflow's stages, in the order the pages list them (the one that matters most first). */
export const STAGES: readonly Stage[] = ['Production', 'Staging', 'None', 'Archived'];

// ---------- Paths ----------

/** The models list (of the current project). */
export const MODELS_PATH = '/models';
/** The approval queue (of the current project). */
export const APPROVALS_PATH = '/models/approvals';

/**
 * A model's page. Model names are unique per project only, so the project is part of the path;
 * names hold no `/` (the registry refuses them), so each is one path segment.
 */
export function modelPath(project: string, name: string): string {
  return `/models/${encodeURIComponent(project)}/${encodeURIComponent(name)}`;
}

export type ModelTab = 'versions' | 'releases';

/** A tab of a model's page: its versions (the default) or its release history. */
export function modelTabPath(project: string, name: string, tab: ModelTab): string {
  return tab === 'versions' ? modelPath(project, name) : `${modelPath(project, name)}/${tab}`;
}

export type VersionTab = 'overview' | 'lineage';

/** A version's page: details, gate results beside the champion's, releases; or its lineage graph. */
export function versionPath(project: string, name: string, version: number, tab: VersionTab = 'overview'): string {
  const base = `${modelPath(project, name)}/versions/${version}`;
  return tab === 'overview' ? base : `${base}/${tab}`;
}

// ---------- The models list's filters ----------

/** What the models list is filtered by; each is a URL parameter of the list page. */
export interface ModelFilters {
  /** MLflow's registered-model grammar (`name LIKE 'fraud%'`), sent to the server. */
  filter: string;
  /** `key=value` or just `key`, turned into a grammar clause on `tags.<key>` (server side). */
  tag: string;
  /** An owner team's name (the list API's `ownerTeam`). */
  owner: string;
  /** Models with a version in this stage (the list API's `stage`). */
  stage: Stage | '';
}

export const NO_FILTERS: ModelFilters = { filter: '', tag: '', owner: '', stage: '' };

/** Reads the filters from the list page's URL; an unknown stage is ignored. */
export function filtersFromSearch(search: URLSearchParams): ModelFilters {
  const stage = STAGES.find((s) => s.toLowerCase() === (search.get('stage') ?? '').toLowerCase()) ?? '';
  return {
    filter: search.get('filter') ?? '',
    tag: search.get('tag') ?? '',
    owner: search.get('owner') ?? '',
    stage,
  };
}

/** The list page's URL for the filters (empty ones left out, so the plain list is `/models`). */
export function filtersToPath(f: ModelFilters): string {
  const qs = new URLSearchParams();
  if (f.filter.trim()) qs.set('filter', f.filter.trim());
  if (f.tag.trim()) qs.set('tag', f.tag.trim());
  if (f.owner.trim()) qs.set('owner', f.owner.trim());
  if (f.stage) qs.set('stage', f.stage);
  const s = qs.toString();
  return s ? `${MODELS_PATH}?${s}` : MODELS_PATH;
}

/**
 * A string literal of the grammar: single quotes, a quote inside doubled (the tokenizer keeps a
 * lone backslash as it is, so backslashes need nothing).
 */
export function quoteValue(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The grammar clause for the tag filter: `team=fraud` -> ``tags.team = 'fraud'``, `team` alone ->
 * ``tags.team LIKE '%'`` (has the tag at all). Null for an empty filter.
 */
export function tagClause(tag: string): string | null {
  const t = tag.trim();
  if (!t) return null;
  const eq = t.indexOf('=');
  const key = (eq < 0 ? t : t.slice(0, eq)).trim();
  if (!key) return null;
  if (eq < 0) return `tags.${quoteKey(key)} LIKE '%'`;
  return `tags.${quoteKey(key)} = ${quoteValue(t.slice(eq + 1).trim())}`;
}

/**
 * The filter sent to the search API: the user's grammar and the tag clause joined with AND
 * (the grammar has no OR, so joining never changes what the user's part means). Undefined when
 * neither is set.
 */
export function serverFilter(f: Pick<ModelFilters, 'filter' | 'tag'>): string | undefined {
  const parts = [f.filter.trim(), tagClause(f.tag)].filter((p): p is string => Boolean(p));
  return parts.length ? parts.join(' AND ') : undefined;
}

/** The models list API's query for the filters (the grammar, the owner team and the stage). */
export function listQuery(f: ModelFilters): { filter?: string; ownerTeam?: string; stage?: Stage } {
  const filter = serverFilter(f);
  const owner = f.owner.trim();
  return {
    ...(filter ? { filter } : {}),
    ...(owner ? { ownerTeam: owner } : {}),
    ...(f.stage ? { stage: f.stage } : {}),
  };
}

/** The newest version per stage, in `STAGES` order (a model has at most one per stage here). */
export function latestByStage(m: Pick<RegisteredModel, 'latestVersions'>): { stage: Stage; version: number }[] {
  return STAGES.flatMap((stage) => {
    const v = m.latestVersions.filter((x) => x.stage === stage).sort((a, b) => b.version - a.version)[0];
    return v ? [{ stage, version: v.version }] : [];
  });
}

// ---------- Versions ----------

/**
 * The experiment of a version's files, read from its storage location
 * (`mlflow-artifacts:/<experiment>/<run id>/artifacts/...` or `.../models/<id>/artifacts`): the
 * run page's path needs it, and reading it here saves a request per row.
 */
export function experimentIdOf(storageLocation: string): string | null {
  const m = /^mlflow-artifacts:\/+(\d{1,15})\//.exec(storageLocation);
  return m ? m[1]! : null;
}

/** The portal page of the run a version came from; null when it has none or it cannot be told. */
export function sourceRunPath(v: Pick<ModelVersion, 'runId' | 'storageLocation'>): string | null {
  if (!v.runId) return null;
  const exp = experimentIdOf(v.storageLocation);
  return exp ? runPath(exp, v.runId) : null;
}

/** `sha256:1a2b3c4d…` for a cell (the full value goes in a tooltip and a copy button). */
export function shortChecksum(checksum: string | null): string | null {
  if (!checksum) return null;
  const [algo, hex] = checksum.includes(':') ? checksum.split(':', 2) : ['', checksum];
  const short = (hex ?? '').slice(0, 12);
  return algo ? `${algo}:${short}…` : `${short}…`;
}

/** `onnx / onnx`, `sklearn / skops`, or whichever is known. */
export function frameworkLabel(v: Pick<ModelVersion, 'framework' | 'format'>): string | null {
  if (v.framework && v.format && v.framework !== v.format) return `${v.framework} / ${v.format}`;
  return v.framework ?? v.format ?? null;
}

/** The aliases of one version, from the model's alias list (sorted). */
export function aliasesOf(m: Pick<RegisteredModel, 'aliases'>, version: number): string[] {
  return m.aliases
    .filter((a) => a.version === version)
    .map((a) => a.alias)
    .sort();
}

// ---------- Releases ----------

export type ReleaseStatus =
  'gate' | 'approval' | 'approved' | 'deploying' | 'done' | 'rejected' | 'blocked' | 'rolled_back' | 'cancelled';

const RELEASE_STATUS_LABELS: Record<ReleaseStatus, string> = {
  gate: 'waiting for gate',
  approval: 'waiting for approval',
  approved: 'approved',
  deploying: 'deploying',
  done: 'done',
  rejected: 'rejected',
  blocked: 'blocked',
  rolled_back: 'rolled back',
  cancelled: 'cancelled',
};

/** A release status in words (`approval` -> "waiting for approval"). */
export function releaseStatusLabel(status: ReleaseStatus): string {
  return RELEASE_STATUS_LABELS[status];
}

/**
 * Why the caller may not decide a release waiting for approval, in words for the page; null when
 * they may. Mirrors the server's rules (maintainers only; never the requester: four-eyes); the
 * server still decides.
 */
export function approvalBlocker(
  release: { requestedBy: string },
  me: { username: string; isAdmin: boolean },
  role: 'viewer' | 'developer' | 'maintainer' | 'admin' | null | undefined,
): string | null {
  if (release.requestedBy === me.username)
    return 'You requested this release, so another maintainer must approve or reject it (four-eyes rule).';
  // Platform admins act as project admins everywhere.
  if (!me.isAdmin && role !== 'maintainer' && role !== 'admin')
    return 'Approving or rejecting a release needs the maintainer role in this project.';
  return null;
}

/** A release with its transitions and its version's gate (what getRelease and the decisions answer). */
export type ReleaseDetail = GetReleaseResponse;

// ---------- Lineage graph layout ----------

export type LineageKind = 'dataset' | 'run' | 'logged_model' | 'model_version' | 'release' | 'deployment';

/** Left to right: what a version is made from, then what was made of it. */
export const LINEAGE_COLUMNS: readonly LineageKind[] = [
  'dataset',
  'run',
  'logged_model',
  'model_version',
  'release',
  'deployment',
];

export interface LayoutInput {
  nodes: readonly { id: string; kind: LineageKind }[];
  edges: readonly { from: string; to: string }[];
}

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
  column: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** An SVG path (a cubic curve between the nodes' sides). */
  path: string;
  /** Runs right to left or within a column (e.g. a version evaluated on a dataset). */
  backward: boolean;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 48;
const COLUMN_GAP = 72;
const ROW_GAP = 16;
const PAD = 16;
/** Room above the top row for edges that arc over a column. */
const SKIP_LIFT = 24;

/**
 * Lays a lineage graph out in columns by node kind (datasets, runs, logged models, versions,
 * releases; empty columns dropped), each column's nodes ordered by the mean position of their
 * neighbours in the columns before it (a barycentre sweep, which keeps most edges from crossing)
 * and centred vertically. Edges are curves from the right side of their source to the left side
 * of their target; backward ones loop around. Pure, so the unit tests check it.
 */
export function layoutLineage(g: LayoutInput): GraphLayout {
  const used = LINEAGE_COLUMNS.filter((k) => g.nodes.some((n) => n.kind === k));
  const columnOf = new Map(g.nodes.map((n) => [n.id, used.indexOf(n.kind)]));
  const columns: string[][] = used.map((k) =>
    g.nodes
      .filter((n) => n.kind === k)
      .map((n) => n.id)
      .sort(),
  );
  const neighbours = new Map<string, string[]>();
  for (const e of g.edges) {
    if (!columnOf.has(e.from) || !columnOf.has(e.to)) continue;
    neighbours.set(e.from, [...(neighbours.get(e.from) ?? []), e.to]);
    neighbours.set(e.to, [...(neighbours.get(e.to) ?? []), e.from]);
  }
  const rank = new Map<string, number>();
  const setRanks = (col: string[]) => col.forEach((id, i) => rank.set(id, i));
  columns.forEach(setRanks);
  // Two sweeps (left to right, then right to left) settle most small graphs.
  const sweep = (order: number[], side: (c: number) => boolean) => {
    for (const c of order) {
      const mean = (id: string) => {
        const ns = (neighbours.get(id) ?? []).filter((n) => side(columnOf.get(n)! - c));
        if (ns.length === 0) return rank.get(id)!;
        return ns.reduce((s, n) => s + rank.get(n)!, 0) / ns.length;
      };
      const scored = columns[c]!.map((id) => ({ id, m: mean(id), r: rank.get(id)! }));
      scored.sort((a, b) => a.m - b.m || a.r - b.r);
      columns[c] = scored.map((s) => s.id);
      setRanks(columns[c]);
    }
  };
  const idx = columns.map((_, i) => i);
  sweep(idx.slice(1), (d) => d < 0);
  sweep(idx.slice(0, -1).reverse(), (d) => d > 0);

  // Edges that skip a column (a held-out dataset straight to the version it evaluated) arc over
  // the nodes between; the arcs need room above the top row.
  const skips = (e: { from: string; to: string }) =>
    columnOf.has(e.from) && columnOf.has(e.to) && columnOf.get(e.to)! - columnOf.get(e.from)! > 1;
  const top = g.edges.some(skips) ? SKIP_LIFT : 0;
  const tallest = Math.max(0, ...columns.map((c) => c.length));
  const height = top + PAD * 2 + tallest * NODE_HEIGHT + Math.max(0, tallest - 1) * ROW_GAP;
  const width = PAD * 2 + columns.length * NODE_WIDTH + Math.max(0, columns.length - 1) * COLUMN_GAP;
  const placed = new Map<string, PlacedNode>();
  columns.forEach((col, c) => {
    const colHeight = col.length * NODE_HEIGHT + Math.max(0, col.length - 1) * ROW_GAP;
    const y0 = top + (height - top - colHeight) / 2;
    col.forEach((id, i) =>
      placed.set(id, { id, column: c, x: PAD + c * (NODE_WIDTH + COLUMN_GAP), y: y0 + i * (NODE_HEIGHT + ROW_GAP) }),
    );
  });

  const edges: PlacedEdge[] = [];
  for (const e of g.edges) {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) continue;
    const ay = a.y + NODE_HEIGHT / 2;
    const by = b.y + NODE_HEIGHT / 2;
    const r = (n: number) => Math.round(n * 10) / 10;
    if (a.column < b.column) {
      const x1 = a.x + NODE_WIDTH;
      const x2 = b.x;
      const dx = (x2 - x1) / 2;
      // A cubic's bulge is 3/4 of its control points' offset: 4/3 of the lift clears the nodes.
      const lift = b.column - a.column > 1 ? (SKIP_LIFT * 4) / 3 + NODE_HEIGHT / 2 : 0;
      const c1 = Math.min(ay, by) - lift;
      edges.push({
        from: e.from,
        to: e.to,
        path: lift
          ? `M${r(x1)},${r(ay)} C${r(x1 + dx)},${r(c1)} ${r(x2 - dx)},${r(c1)} ${r(x2)},${r(by)}`
          : `M${r(x1)},${r(ay)} C${r(x1 + dx)},${r(ay)} ${r(x2 - dx)},${r(by)} ${r(x2)},${r(by)}`,
        backward: false,
      });
    } else {
      // Leaves the source's bottom and enters the target's bottom, curving below both.
      const x1 = a.x + NODE_WIDTH / 2;
      const x2 = b.x + NODE_WIDTH / 2;
      const y1 = a.y + NODE_HEIGHT;
      const y2 = b.y + NODE_HEIGHT;
      const dip = Math.max(y1, y2) + COLUMN_GAP / 2;
      edges.push({
        from: e.from,
        to: e.to,
        path: `M${r(x1)},${r(y1)} C${r(x1)},${r(dip)} ${r(x2)},${r(dip)} ${r(x2)},${r(y2)}`,
        backward: true,
      });
    }
  }
  const hasBackward = edges.some((e) => e.backward);
  return {
    width,
    height: hasBackward ? height + COLUMN_GAP / 2 : height,
    nodes: [...placed.values()],
    edges,
  };
}

type Attribute = string | number | boolean | null | string[];

/** A node of the lineage API as the link helper needs it. */
export interface LineageNodeRef {
  id: string;
  kind: LineageKind;
  project: string;
  attributes: Record<string, Attribute>;
}

const text = (v: Attribute | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The portal page of a lineage node: a dataset version's page, a run's, a logged model's, a model
 * version's, the release history of a release's model, or a deployment's page. Null when the node lacks what the path
 * needs (the graph still shows it, unlinked).
 */
export function lineageNodePath(n: LineageNodeRef): string | null {
  const id = n.id.slice(n.id.indexOf(':') + 1);
  const a = n.attributes;
  switch (n.kind) {
    case 'dataset':
      return id ? datasetPath(id) : null;
    case 'run': {
      const exp = text(a.experimentId);
      return exp && id ? runPath(exp, id) : null;
    }
    case 'logged_model': {
      const exp = text(a.experimentId);
      return exp && id ? loggedModelPath(exp, id) : null;
    }
    case 'model_version': {
      const model = text(a.model);
      const version = typeof a.version === 'number' ? a.version : Number(a.version);
      return model && Number.isSafeInteger(version) ? versionPath(n.project, model, version) : null;
    }
    case 'release': {
      const model = text(a.model);
      return model ? modelTabPath(n.project, model, 'releases') : null;
    }
    case 'deployment':
      return id ? deploymentPath(id) : null;
  }
}

/** The lineage API's id of a model version (the root of its graph). */
export function versionNodeId(name: string, version: number): string {
  return `model_version:${name}/${version}`;
}

// ---------- Gate results beside the champion's ----------

/** Metrics where more is better (the server's list); for the others (losses, errors) less is. */
const HIGHER_IS_BETTER = new Set(['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'r2']);

export function higherIsBetter(metric: string): boolean {
  return HIGHER_IS_BETTER.has(metric);
}

export interface GateCheckInput {
  kind: 'threshold' | 'champion';
  metric: string;
  op: '>=' | '<=';
  threshold: number;
  value: number | null;
  passed: boolean;
}

/** One row of the gate table: a metric of the version, its checks, and the champion's value. */
export interface GateRow {
  metric: string;
  value: number | null;
  /** The spec's threshold on it, if any. */
  threshold: { op: '>=' | '<='; threshold: number; passed: boolean } | null;
  /** The champion rule's bound on it, if the rule applied. */
  championRule: { op: '>=' | '<='; threshold: number; passed: boolean } | null;
  /** Whether the metric's checks passed (null: it has none). */
  passed: boolean | null;
  champion: number | null;
  /** value − champion, when both are known. */
  delta: number | null;
  /** Whether the delta is an improvement in the metric's own direction (null: no delta, or 0). */
  better: boolean | null;
}

/**
 * The gate table's rows: every metric the gate computed (and any a check names), checked ones
 * first in the spec's order, then the rest by name; each with its threshold and champion-rule
 * results and the champion's value and the difference to it.
 */
export function gateRows(
  metrics: Record<string, number | null> | null,
  checks: readonly GateCheckInput[] | null,
  champion: Record<string, number | null> | null,
): GateRow[] {
  const checked = [...new Set((checks ?? []).map((c) => c.metric))];
  const rest = Object.keys(metrics ?? {})
    .filter((m) => !checked.includes(m))
    .sort((a, b) => a.localeCompare(b));
  return [...checked, ...rest].map((metric) => {
    const th = checks?.find((c) => c.kind === 'threshold' && c.metric === metric);
    const cr = checks?.find((c) => c.kind === 'champion' && c.metric === metric);
    const value = metrics?.[metric] ?? th?.value ?? cr?.value ?? null;
    const base = champion?.[metric] ?? null;
    const delta = value !== null && base !== null ? value - base : null;
    const mine = [th, cr].filter((c): c is GateCheckInput => c !== undefined);
    return {
      metric,
      value,
      threshold: th ? { op: th.op, threshold: th.threshold, passed: th.passed } : null,
      championRule: cr ? { op: cr.op, threshold: cr.threshold, passed: cr.passed } : null,
      passed: mine.length ? mine.every((c) => c.passed) : null,
      champion: base,
      delta,
      better: delta === null || delta === 0 ? null : higherIsBetter(metric) ? delta > 0 : delta < 0,
    };
  });
}

/** A signed difference for a cell: `+0.0213`, `−0.004` (six significant digits at most). */
export function formatDelta(delta: number | null): string {
  if (delta === null || !Number.isFinite(delta)) return '—';
  if (delta === 0) return '0';
  const abs = Math.abs(delta);
  const digits = abs !== 0 && abs < 1e-4 ? abs.toExponential(2) : String(Number(abs.toPrecision(4)));
  return `${delta > 0 ? '+' : '−'}${digits}`;
}
