import type { Caller } from '../../core/auth.js';
import { InputError, NotFoundError } from '../../core/errors.js';
import type { AccessService } from '../projects/access.js';
import type {
  DatasetFacts,
  DeploymentFacts,
  GateFacts,
  LineageStore,
  LoggedModelFacts,
  ReleaseFacts,
  RunFacts,
  VersionFacts,
  VersionRef,
} from './store.js';

export const NODE_KINDS = ['dataset', 'run', 'logged_model', 'model_version', 'release', 'deployment'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
export const DIRECTIONS = ['upstream', 'downstream', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const RELATIONS = [
  'input',
  'output',
  'source',
  'registered_as',
  'released_as',
  'evaluated_on',
  'deployed_to',
  'served_by',
] as const;
export type Relation = (typeof RELATIONS)[number];

export const LINEAGE_LIMITS = { defaultDepth: 3, maxDepth: 10, maxNodes: 500 } as const;

export type AttributeValue = string | number | boolean | null | string[];

export interface LineageNode {
  /** `kind:id`, the form the `node` parameter takes (see {@link LineageService.graph}). */
  id: string;
  kind: NodeKind;
  label: string;
  /** The project (name) the node belongs to. */
  project: string;
  attributes: Record<string, AttributeValue>;
}

export interface LineageEdge {
  from: string;
  to: string;
  relation: Relation;
  /** For a dataset used by a run: its mlflow.data.context (training, validation, ...). */
  context: string | null;
}

export interface LineageGraph {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** Some nodes were left out because the graph reached the node cap. */
  truncated: boolean;
}

/** The held-out dataset a version was (or will be) evaluated on, and where that was read. */
export interface HeldOut {
  datasetId: string;
  task: string | null;
  labelColumn: string | null;
  /** `gate`: the spec snapshot of the version's newest gate run; `spec`: the model's current spec. */
  from: 'gate' | 'spec';
}

type Facts =
  | { kind: 'dataset'; projectId: string; f: DatasetFacts }
  | { kind: 'run'; projectId: string; f: RunFacts }
  | { kind: 'logged_model'; projectId: string; f: LoggedModelFacts }
  | { kind: 'model_version'; projectId: string; f: VersionFacts }
  | { kind: 'release'; projectId: string; f: ReleaseFacts }
  | { kind: 'deployment'; projectId: string; f: DeploymentFacts };

/** Internal keys: stable ids (a version by its model's id, since names change). */
type Key = string;
interface Link {
  from: Key;
  to: Key;
  relation: Relation;
  context: string | null;
}

const vkey = (v: VersionRef): Key => `model_version:${v.modelId}/${v.version}`;
const RUN_ID = /^[0-9a-f]{32}$/;
const LOGGED_MODEL_ID = /^m-[0-9a-f]{32}$/;
const PLAIN_ID = /^[A-Za-z0-9._-]{1,128}$/;
const NODE_FORMS =
  'dataset:<dataset id>, run:<run id>, logged_model:<m-...>, model_version:<model name>/<version>, release:<release id> or deployment:<deployment name>';

/** A `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>` source: a copy of another version. */
export function parentReference(source: string): { name: string; version: number | null } | null {
  if (!source.startsWith('models:/') || source.startsWith('models://')) return null;
  const rest = source.slice('models:/'.length);
  if (LOGGED_MODEL_ID.test(rest)) return null;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const suffix = rest.slice(slash + 1);
    return { name: rest.slice(0, slash), version: /^\d+$/.test(suffix) ? Number(suffix) : null };
  }
  const at = rest.lastIndexOf('@');
  return at > 0 ? { name: rest.slice(0, at), version: null } : null;
}

/** What a gate's spec snapshot (JSON) says about the held-out set; null when it names none. */
function specOf(json: string | null): { datasetId: string; task: string | null; labelColumn: string | null } | null {
  if (!json) return null;
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof s !== 'object' || s === null) return null;
  const dataset = s.dataset as { id?: unknown } | undefined;
  const id = s.datasetId ?? s.dataset_id ?? (typeof dataset === 'object' && dataset !== null ? dataset.id : undefined);
  if (typeof id !== 'string') return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return { datasetId: id, task: text(s.task), labelColumn: text(s.labelColumn ?? s.label_column) };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The lineage graph: dataset versions -> runs (code commit, params) -> logged models -> model
 * versions -> releases, plus versions copied from other versions and the held-out dataset a
 * version's gate evaluates it on. Read by breadth-first search from one node, one batch of queries
 * per layer, bounded in depth and node count; nodes in projects the caller cannot read are left out
 * (and not walked through). Viewers of the project read it.
 */
export class LineageService {
  constructor(
    private readonly store: LineageStore,
    private readonly access: AccessService,
  ) {}

  /**
   * The graph around `node` (`kind:id`; a version as `model_version:<model name>/<version>`) of
   * the project: `upstream` (what it came from), `downstream` (what came from it) or `both` (the
   * union of the two walks), `depth` links deep (default 3, at most 10), at most `maxNodes` nodes
   * (default and at most 500; `truncated` says when some were left out). The node must belong to
   * the project (NotFound otherwise); a malformed one is an InputError naming `node`.
   */
  async graph(
    caller: Caller,
    projectName: string,
    input: { node: unknown; direction?: unknown; depth?: unknown; maxNodes?: unknown },
  ): Promise<LineageGraph> {
    const { project } = await this.access.requireProject(caller, projectName, 'viewer', null);
    const direction = input.direction ?? 'both';
    if (typeof direction !== 'string' || !(DIRECTIONS as readonly string[]).includes(direction)) {
      throw new InputError(`direction must be one of ${DIRECTIONS.join(', ')}`, 'direction');
    }
    const depth = bounded(input.depth, 'depth', 0, LINEAGE_LIMITS.maxDepth, LINEAGE_LIMITS.defaultDepth);
    const maxNodes = bounded(input.maxNodes, 'maxNodes', 1, LINEAGE_LIMITS.maxNodes, LINEAGE_LIMITS.maxNodes);
    const root = await this.root(project.id, project.name, input.node);

    const readable = new Map<string, Promise<boolean>>([[project.id, Promise.resolve(true)]]);
    const mayRead = (projectId: string) => {
      let r = readable.get(projectId);
      if (!r) {
        r = this.access
          .requireProjectId(caller, projectId, 'viewer', null, () => new NotFoundError(''))
          .then(
            () => true,
            () => false,
          );
        readable.set(projectId, r);
      }
      return r;
    };

    const nodes = new Map<Key, Facts>([[root.key, root.facts]]);
    const links = new Map<string, Link>();
    let truncated = false;
    const walks: ('upstream' | 'downstream')[] =
      direction === 'both' ? ['upstream', 'downstream'] : [direction as 'upstream' | 'downstream'];
    for (const walk of walks) {
      let frontier = [root.key];
      const expanded = new Set<Key>();
      for (let d = 0; d < depth && frontier.length > 0; d++) {
        for (const k of frontier) expanded.add(k);
        const layer = frontier.map((k) => nodes.get(k)!);
        const found = await this.links(layer, walk, maxNodes + 1);
        if (found.cut) truncated = true;
        const unknown = [...new Set(found.links.map((l) => (walk === 'upstream' ? l.from : l.to)))].filter(
          (k) => !nodes.has(k) && !found.facts.has(k),
        );
        for (const [k, f] of await this.facts(unknown)) found.facts.set(k, f);
        const next: Key[] = [];
        for (const l of found.links) {
          const target = walk === 'upstream' ? l.from : l.to;
          if (!nodes.has(target)) {
            const f = found.facts.get(target);
            // A link to something deleted since, or in a project the caller cannot read: left out.
            if (!f || !(await mayRead(f.projectId))) continue;
            if (nodes.size >= maxNodes) {
              truncated = true;
              continue;
            }
            nodes.set(target, f);
          }
          if (!expanded.has(target) && !next.includes(target)) next.push(target);
          links.set(`${l.from}\n${l.to}\n${l.relation}`, l);
        }
        frontier = next;
      }
    }
    return this.present(project.id, root.key, nodes, [...links.values()], truncated);
  }

  /**
   * The held-out dataset of each version: from the spec snapshot of its newest gate run that has
   * one, else (never gated with a spec) from its model's current evaluation spec.
   */
  async heldOut(refs: VersionRef[]): Promise<Map<Key, HeldOut>> {
    const [gates, specs] = await Promise.all([
      this.store.gates(refs),
      this.store.evaluationSpecs(refs.map((r) => r.modelId)),
    ]);
    const fromGate = new Map<Key, HeldOut>();
    for (const g of gates) {
      const s = specOf(g.spec);
      // Gates come oldest first: the newest with a spec wins.
      if (s) fromGate.set(vkey(g), { ...s, from: 'gate' });
    }
    const specOfModel = new Map(specs.map((s) => [s.model_id, s]));
    const out = new Map<Key, HeldOut>();
    for (const r of refs) {
      const g = fromGate.get(vkey(r));
      const s = specOfModel.get(r.modelId);
      if (g) out.set(vkey(r), g);
      else if (s)
        out.set(vkey(r), { datasetId: s.dataset_id, task: s.task, labelColumn: s.label_column, from: 'spec' });
    }
    return out;
  }

  // ---- internals ----

  /** Parses and finds the root node; it must lie in the project. */
  private async root(projectId: string, projectName: string, node: unknown): Promise<{ key: Key; facts: Facts }> {
    if (typeof node !== 'string' || node === '') {
      throw new InputError(`node is required: ${NODE_FORMS}`, 'node');
    }
    const colon = node.indexOf(':');
    const kind = node.slice(0, colon) as NodeKind;
    const id = node.slice(colon + 1);
    if (colon < 0 || !(NODE_KINDS as readonly string[]).includes(kind) || id === '') {
      throw new InputError(`node ${JSON.stringify(node.slice(0, 200))} is not one of ${NODE_FORMS}`, 'node');
    }
    const malformed = (what: string) => new InputError(`node ${JSON.stringify(node.slice(0, 200))}: ${what}`, 'node');
    const missing = () => new NotFoundError(`no ${kind.replace('_', ' ')} ${id} in project "${projectName}"`);
    let key: Key;
    let facts: Facts | undefined;
    if (kind === 'model_version') {
      const parts = id.split('/');
      if (parts.length === 3 && parts[0] === projectName) parts.shift();
      if (parts.length !== 2 || !parts[0] || !/^\d{1,15}$/.test(parts[1]!)) {
        throw malformed('a model version is model_version:<model name>/<version number>');
      }
      const v = await this.store.versionByName(projectId, parts[0], Number(parts[1]));
      if (!v) throw missing();
      key = vkey(v);
      facts = { kind, projectId: v.projectId, f: v };
    } else if (kind === 'deployment') {
      // Deployments are named in the graph (ids are internal), as versions are.
      if (!PLAIN_ID.test(id)) throw malformed('a deployment is deployment:<deployment name>');
      const d = await this.store.deploymentByName(projectId, id);
      if (!d) throw missing();
      key = `deployment:${d.id}`;
      facts = { kind, projectId: d.projectId, f: d };
    } else {
      if (kind === 'run' && !RUN_ID.test(id)) throw malformed('a run id is 32 hexadecimal digits');
      if (kind === 'logged_model' && !LOGGED_MODEL_ID.test(id))
        throw malformed('a logged model id is m-<32 hex digits>');
      if (!PLAIN_ID.test(id)) throw malformed('ids are letters, digits, ".", "_" and "-"');
      key = `${kind}:${id}`;
      facts = (await this.facts([key])).get(key);
    }
    if (!facts || facts.projectId !== projectId) throw missing();
    return { key, facts };
  }

  /** Facts of nodes by key, one query per kind. */
  private async facts(keys: Key[]): Promise<Map<Key, Facts>> {
    const ids = (kind: NodeKind) => keys.filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
    const versionRefs = ids('model_version').map((s) => {
      const slash = s.lastIndexOf('/');
      return { modelId: s.slice(0, slash), version: Number(s.slice(slash + 1)) };
    });
    const [datasets, runs, models, versions, releases, deployments] = await Promise.all([
      this.store.datasets(ids('dataset')),
      this.store.runs(ids('run')),
      this.store.loggedModels(ids('logged_model')),
      this.store.versions(versionRefs),
      this.store.releases(ids('release')),
      this.store.deployments(ids('deployment')),
    ]);
    const out = new Map<Key, Facts>();
    for (const f of datasets) out.set(`dataset:${f.id}`, { kind: 'dataset', projectId: f.projectId, f });
    for (const f of runs) out.set(`run:${f.id}`, { kind: 'run', projectId: f.projectId, f });
    for (const f of models) out.set(`logged_model:${f.id}`, { kind: 'logged_model', projectId: f.projectId, f });
    for (const f of versions) out.set(vkey(f), { kind: 'model_version', projectId: f.projectId, f });
    for (const f of releases) out.set(`release:${f.id}`, { kind: 'release', projectId: f.projectId, f });
    for (const f of deployments) out.set(`deployment:${f.id}`, { kind: 'deployment', projectId: f.projectId, f });
    return out;
  }

  /**
   * The links of one layer in one direction, with the facts of targets the queries already
   * returned. `limit` bounds each query (the caller cannot use more than the node cap anyway).
   */
  private async links(
    layer: Facts[],
    walk: 'upstream' | 'downstream',
    limit: number,
  ): Promise<{ links: Link[]; facts: Map<Key, Facts>; cut: boolean }> {
    const datasets: DatasetFacts[] = [];
    const runs: RunFacts[] = [];
    const models: LoggedModelFacts[] = [];
    const versions: VersionFacts[] = [];
    const releases: ReleaseFacts[] = [];
    const deployments: DeploymentFacts[] = [];
    for (const n of layer) {
      if (n.kind === 'dataset') datasets.push(n.f);
      else if (n.kind === 'run') runs.push(n.f);
      else if (n.kind === 'logged_model') models.push(n.f);
      else if (n.kind === 'model_version') versions.push(n.f);
      else if (n.kind === 'release') releases.push(n.f);
      else deployments.push(n.f);
    }
    const links: Link[] = [];
    const facts = new Map<Key, Facts>();
    const link = (from: Key, to: Key, relation: Relation, context: string | null = null) =>
      links.push({ from, to, relation, context });
    const versionFact = (v: VersionFacts) =>
      facts.set(vkey(v), { kind: 'model_version', projectId: v.projectId, f: v });
    const releaseFact = (r: ReleaseFacts) =>
      facts.set(`release:${r.id}`, { kind: 'release', projectId: r.projectId, f: r });
    const deploymentFact = (d: DeploymentFacts) =>
      facts.set(`deployment:${d.id}`, { kind: 'deployment', projectId: d.projectId, f: d });

    if (walk === 'upstream') {
      const runIds = runs.map((r) => r.id);
      const servedRefs = deployments.flatMap((d) => d.served.map((version) => ({ modelId: d.modelId, version })));
      const [inputs, modelLinks, runLinks, parents, heldOut, servedVersions, servedReleases] = await Promise.all([
        this.store.inputsOfRuns(runIds),
        this.store.modelLinksOfRuns(runIds),
        this.store.runLinksOfModels(
          models.map((m) => m.id),
          limit,
        ),
        this.parents(versions),
        this.heldOut(versions),
        this.store.versions(servedRefs),
        this.store.releasesOf(servedRefs, limit),
      ]);
      for (const i of inputs) link(`dataset:${i.dataset_id}`, `run:${i.run_id}`, 'input', i.context);
      for (const l of modelLinks) {
        if (l.direction === 'input') link(`logged_model:${l.model_id}`, `run:${l.run_id}`, 'input');
      }
      for (const m of models) if (m.sourceRunId) link(`run:${m.sourceRunId}`, `logged_model:${m.id}`, 'output');
      for (const l of runLinks) {
        if (l.direction === 'output') link(`run:${l.run_id}`, `logged_model:${l.model_id}`, 'output');
      }
      for (const v of versions) {
        const parent = parents.get(vkey(v));
        if (parent) {
          versionFact(parent);
          link(vkey(parent), vkey(v), 'source');
        } else {
          if (v.runId) link(`run:${v.runId}`, vkey(v), 'source');
          if (v.loggedModelId) link(`logged_model:${v.loggedModelId}`, vkey(v), 'registered_as');
        }
        const h = heldOut.get(vkey(v));
        if (h) link(`dataset:${h.datasetId}`, vkey(v), 'evaluated_on');
      }
      for (const r of releases) link(vkey(r), `release:${r.id}`, 'released_as');
      // A version a release put on the deployment comes through that release; others (deployed
      // by hand) link straight to the deployment.
      const servedVersion = new Map(servedVersions.map((v) => [vkey(v), v]));
      for (const d of deployments) {
        for (const version of d.served) {
          const ref = { modelId: d.modelId, version };
          const via = servedReleases.filter((r) => vkey(r) === vkey(ref) && r.environment === d.environment);
          for (const r of via) {
            releaseFact(r);
            link(`release:${r.id}`, `deployment:${d.id}`, 'deployed_to');
          }
          const v = servedVersion.get(vkey(ref));
          if (via.length === 0 && v) {
            versionFact(v);
            link(vkey(v), `deployment:${d.id}`, 'served_by');
          }
        }
      }
      return { links, facts, cut: runLinks.length >= limit || servedReleases.length >= limit };
    }

    const datasetIds = datasets.map((d) => d.id);
    const runIds = runs.map((r) => r.id);
    const modelIds = models.map((m) => m.id);
    const [users, modelLinks, producedBy, runLinks, registered, copies, released, gatedOn, specOn, deployed] =
      await Promise.all([
        this.store.runsOfDatasets(datasetIds, limit),
        this.store.modelLinksOfRuns(runIds),
        this.store.modelsFromRuns(runIds, limit),
        this.store.runLinksOfModels(modelIds, limit),
        this.store.versionsFrom({ runIds, loggedModelIds: modelIds }, limit),
        this.store.versionsCopying(
          versions.map((v) => v.storageLocation),
          limit,
        ),
        this.store.releasesOf(versions, limit),
        this.store.gatedOn(datasetIds, limit),
        this.store.versionsOfModelsEvaluatedOn(datasetIds, limit),
        this.store.deploymentsOfModels(
          [...versions, ...releases].map((x) => x.modelId),
          limit,
        ),
      ]);
    for (const u of users) link(`dataset:${u.dataset_id}`, `run:${u.run_id}`, 'input', u.context);
    for (const l of modelLinks) {
      if (l.direction === 'output') link(`run:${l.run_id}`, `logged_model:${l.model_id}`, 'output');
    }
    for (const m of producedBy) link(`run:${m.source_run_id}`, `logged_model:${m.id}`, 'output');
    for (const l of runLinks) {
      if (l.direction === 'input') link(`logged_model:${l.model_id}`, `run:${l.run_id}`, 'input');
    }
    // A copy of another version links to that version, not to the run or model behind it.
    const [parentsOfRegistered, parentsOfCopies] = await Promise.all([this.parents(registered), this.parents(copies)]);
    const runSet = new Set(runIds);
    const modelSet = new Set(modelIds);
    for (const v of registered) {
      if (parentsOfRegistered.has(vkey(v))) continue;
      versionFact(v);
      if (v.runId && runSet.has(v.runId)) link(`run:${v.runId}`, vkey(v), 'source');
      if (v.loggedModelId && modelSet.has(v.loggedModelId)) {
        link(`logged_model:${v.loggedModelId}`, vkey(v), 'registered_as');
      }
    }
    const layerVersions = new Set(versions.map(vkey));
    for (const c of copies) {
      const parent = parentsOfCopies.get(vkey(c));
      if (!parent || !layerVersions.has(vkey(parent))) continue;
      versionFact(c);
      link(vkey(parent), vkey(c), 'source');
    }
    for (const r of released) {
      releaseFact(r);
      link(vkey(r), `release:${r.id}`, 'released_as');
    }
    // Deployments a release put the version on hang off that release (the next layer links them);
    // a version deployed by hand links straight to its deployment.
    for (const d of deployed) {
      const served = (ref: VersionRef) => ref.modelId === d.modelId && d.served.includes(ref.version);
      for (const r of releases) {
        if (served(r) && r.environment === d.environment) {
          deploymentFact(d);
          link(`release:${r.id}`, `deployment:${d.id}`, 'deployed_to');
        }
      }
      for (const v of versions) {
        if (!served(v) || released.some((r) => vkey(r) === vkey(v) && r.environment === d.environment)) continue;
        deploymentFact(d);
        link(vkey(v), `deployment:${d.id}`, 'served_by');
      }
    }
    // A query that filled its limit may have left links out: the graph is then incomplete.
    const cut = [users, producedBy, runLinks, registered, copies, released, gatedOn, specOn, deployed].some(
      (rows) => rows.length >= limit,
    );
    const candidates = [...new Map([...gatedOn, ...specOn].map((r) => [vkey(r), r])).values()];
    if (candidates.length > 0) {
      const wanted = new Set(datasetIds);
      for (const [k, h] of await this.heldOut(candidates)) {
        if (wanted.has(h.datasetId)) link(`dataset:${h.datasetId}`, k, 'evaluated_on');
      }
    }
    return { links, facts, cut };
  }

  /**
   * The version each copy was registered from: `models:/<name>/<n>` names it; for a stage, alias
   * or `latest` (resolved when the copy was made) it is the oldest version of that model holding
   * the same files. Versions that are not copies, or whose original is gone, have none.
   */
  private async parents(versions: VersionFacts[]): Promise<Map<Key, VersionFacts>> {
    const copies = versions
      .map((v) => ({ v, ref: parentReference(v.source) }))
      .filter((c): c is { v: VersionFacts; ref: NonNullable<ReturnType<typeof parentReference>> } => c.ref !== null);
    const out = new Map<Key, VersionFacts>();
    if (copies.length === 0) return out;
    const candidates = await this.store.versionsAt(
      copies.map(({ v, ref }) => ({ projectId: v.projectId, name: ref.name, storageLocation: v.storageLocation })),
    );
    for (const { v, ref } of copies) {
      const found = candidates
        .filter(
          (c) =>
            c.projectId === v.projectId &&
            c.modelName === ref.name &&
            c.storageLocation === v.storageLocation &&
            vkey(c) !== vkey(v) &&
            (ref.version === null ? c.createdAt <= v.createdAt : c.version === ref.version),
        )
        .sort((a, b) => a.createdAt - b.createdAt || a.version - b.version)[0];
      if (found) out.set(vkey(v), found);
    }
    return out;
  }

  /** Turns internal keys into the ids clients use, adding labels, attributes and project names. */
  private async present(
    projectId: string,
    rootKey: Key,
    nodes: Map<Key, Facts>,
    links: Link[],
    truncated: boolean,
  ): Promise<LineageGraph> {
    const all = [...nodes.values()];
    const versionRefs = all.filter((n) => n.kind === 'model_version').map((n) => n.f as VersionFacts);
    const [projects, gates] = await Promise.all([
      this.store.projectNames(all.map((n) => n.projectId)),
      this.store.gates(versionRefs),
    ]);
    const newestGate = new Map<Key, GateFacts>();
    for (const g of gates) newestGate.set(vkey(g), g);
    const projectOf = (n: Facts) => projects.get(n.projectId) ?? n.projectId;
    const ids = new Map<Key, string>();
    for (const [k, n] of nodes) {
      if (n.kind === 'model_version') {
        const qualifier = n.projectId === projectId ? '' : `${projectOf(n)}/`;
        ids.set(k, `model_version:${qualifier}${n.f.modelName}/${n.f.version}`);
      } else if (n.kind === 'deployment') ids.set(k, `deployment:${n.f.name}`);
      else ids.set(k, k);
    }
    const out: LineageNode[] = [...nodes].map(([k, n]) => ({
      id: ids.get(k)!,
      kind: n.kind,
      label: labelOf(n),
      project: projectOf(n),
      attributes: attributesOf(n, newestGate),
    }));
    const edges = links
      .filter((l) => nodes.has(l.from) && nodes.has(l.to))
      .map((l) => ({ from: ids.get(l.from)!, to: ids.get(l.to)!, relation: l.relation, context: l.context }));
    return { root: ids.get(rootKey)!, nodes: out, edges, truncated };
  }
}

function bounded(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`${field} must be a whole number from ${min} to ${max}`, field);
  }
  return n;
}

function labelOf(n: Facts): string {
  switch (n.kind) {
    case 'dataset':
      // Digests may carry an algorithm prefix (sha256:...): show the start of the hash itself.
      return `${n.f.name} (${n.f.digest.replace(/^[a-z0-9]+:/, '').slice(0, 8)})`;
    case 'run':
      return n.f.name || n.f.id.slice(0, 8);
    case 'logged_model':
      return n.f.name;
    case 'model_version':
      return `${n.f.modelName} v${n.f.version}`;
    case 'release':
      return `${n.f.environment} release of ${n.f.modelName} v${n.f.version}`;
    case 'deployment':
      return n.f.name;
  }
}

function attributesOf(n: Facts, newestGate: Map<Key, GateFacts>): Record<string, AttributeValue> {
  switch (n.kind) {
    case 'dataset':
      return { name: n.f.name, digest: n.f.digest, sourceType: n.f.sourceType };
    case 'run':
      return {
        name: n.f.name,
        status: n.f.status,
        user: n.f.user,
        experimentId: n.f.experimentId,
        codeCommit: n.f.gitCommit,
        paramsCount: n.f.paramsCount,
        lifecycleStage: n.f.lifecycleStage,
        startTime: iso(n.f.startTime),
      };
    case 'logged_model':
      return {
        name: n.f.name,
        status: n.f.status,
        experimentId: n.f.experimentId,
        sourceRunId: n.f.sourceRunId,
        lifecycleStage: n.f.lifecycleStage,
      };
    case 'model_version': {
      const gate = newestGate.get(vkey(n.f));
      return {
        model: n.f.modelName,
        version: n.f.version,
        source: n.f.source,
        checksum: n.f.checksum,
        stage: n.f.stage,
        aliases: n.f.aliases,
        status: n.f.status,
        gateStatus: gate?.status ?? null,
        gateOverridden: gate?.overridden ?? false,
        createdAt: iso(n.f.createdAt),
      };
    }
    case 'release':
      return {
        model: n.f.modelName,
        version: n.f.version,
        environment: n.f.environment,
        status: n.f.status,
        requestedBy: n.f.requestedBy,
        createdAt: iso(n.f.createdAt),
      };
    case 'deployment':
      return {
        name: n.f.name,
        model: n.f.modelName,
        environment: n.f.environment,
        status: n.f.status,
        runtime: n.f.runtime,
        traffic: n.f.traffic.map((s) => `v${s.version} ${s.weight}%`),
        createdAt: iso(n.f.createdAt),
      };
  }
}
