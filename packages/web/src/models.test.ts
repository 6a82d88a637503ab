// Unit tests of the model pages' pure helpers: paths, the list's filters (grammar clauses, URL
// round trip, owner/stage on loaded models), version display, the approval rule as the page
// applies it, lineage links and the lineage graph's layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RegisteredModel } from '@hangar/sdk';
import {
  approvalBlocker,
  experimentIdOf,
  filtersFromSearch,
  filtersToPath,
  frameworkLabel,
  latestByStage,
  layoutLineage,
  lineageNodePath,
  listQuery,
  modelPath,
  modelTabPath,
  NODE_WIDTH,
  serverFilter,
  shortChecksum,
  sourceRunPath,
  tagClause,
  versionNodeId,
  versionPath,
} from './models.js';

const RUN = '0123456789abcdef0123456789abcdef';

function model(over: Partial<RegisteredModel> = {}): RegisteredModel {
  return {
    id: 'm1',
    name: 'fraud',
    description: null,
    ownerTeam: 'risk',
    riskTier: 'critical',
    creator: 'ana',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    tags: [],
    aliases: [],
    latestVersions: [],
    ...over,
  };
}

const version = (n: number, stage: 'None' | 'Staging' | 'Production' | 'Archived') =>
  ({ version: n, stage }) as RegisteredModel['latestVersions'][number];

test('paths put the project and the name in one segment each', () => {
  assert.equal(modelPath('churn', 'fraud detector'), '/models/churn/fraud%20detector');
  assert.equal(modelTabPath('churn', 'fraud', 'versions'), '/models/churn/fraud');
  assert.equal(modelTabPath('churn', 'fraud', 'releases'), '/models/churn/fraud/releases');
  assert.equal(versionPath('churn', 'fraud', 3), '/models/churn/fraud/versions/3');
  assert.equal(versionPath('churn', 'fraud', 3, 'lineage'), '/models/churn/fraud/versions/3/lineage');
  assert.equal(versionNodeId('fraud', 3), 'model_version:fraud/3');
});

test('the tag filter becomes a grammar clause; the user filter and it are joined with AND', () => {
  assert.equal(tagClause(''), null);
  assert.equal(tagClause('team=risk'), "tags.team = 'risk'");
  assert.equal(tagClause(' team = risk '), "tags.team = 'risk'");
  assert.equal(tagClause('owner.email=a@b'), "tags.`owner.email` = 'a@b'");
  assert.equal(tagClause("note=it's"), "tags.note = 'it''s'");
  assert.equal(tagClause('pii'), "tags.pii LIKE '%'");
  assert.equal(tagClause('=x'), null);
  assert.equal(serverFilter({ filter: '', tag: '' }), undefined);
  assert.equal(serverFilter({ filter: " name LIKE 'fr%' ", tag: '' }), "name LIKE 'fr%'");
  assert.equal(serverFilter({ filter: "name LIKE 'fr%'", tag: 'team=risk' }), "name LIKE 'fr%' AND tags.team = 'risk'");
});

test('filters round-trip through the URL; empty ones are left out', () => {
  const f = { filter: "name = 'a b'", tag: 'team=risk', owner: 'risk', stage: 'Production' as const };
  const path = filtersToPath(f);
  assert.ok(path.startsWith('/models?'));
  assert.deepEqual(filtersFromSearch(new URL(path, 'http://x').searchParams), f);
  assert.equal(filtersToPath({ filter: ' ', tag: '', owner: '', stage: '' }), '/models');
  assert.equal(filtersFromSearch(new URLSearchParams('stage=production')).stage, 'Production');
  assert.equal(filtersFromSearch(new URLSearchParams('stage=nope')).stage, '');
});

test('the list query carries grammar, owner team and stage; latest versions are listed by stage', () => {
  assert.deepEqual(listQuery({ filter: '', tag: '', owner: '', stage: '' }), {});
  assert.deepEqual(listQuery({ filter: "name LIKE 'f%'", tag: 'team=risk', owner: ' risk ', stage: 'Production' }), {
    filter: "name LIKE 'f%' AND tags.team = 'risk'",
    ownerTeam: 'risk',
    stage: 'Production',
  });
  const m = model({ latestVersions: [version(4, 'None'), version(3, 'Production'), version(2, 'Archived')] });
  assert.deepEqual(latestByStage(m), [
    { stage: 'Production', version: 3 },
    { stage: 'None', version: 4 },
    { stage: 'Archived', version: 2 },
  ]);
});

test("a version's run link comes from its storage location; checksums and formats read short", () => {
  assert.equal(experimentIdOf(`mlflow-artifacts:/12/${RUN}/artifacts/model`), '12');
  assert.equal(experimentIdOf('mlflow-artifacts:/3/models/m-0123/artifacts'), '3');
  assert.equal(experimentIdOf('s3://bucket/x'), null);
  assert.equal(
    sourceRunPath({ runId: RUN, storageLocation: `mlflow-artifacts:/12/${RUN}/artifacts/model` }),
    `/experiments/12/runs/${RUN}`,
  );
  assert.equal(sourceRunPath({ runId: null, storageLocation: 'mlflow-artifacts:/12/x' }), null);
  assert.equal(shortChecksum(`sha256:${'ab'.repeat(32)}`), 'sha256:abababababab…');
  assert.equal(shortChecksum(null), null);
  assert.equal(frameworkLabel({ framework: 'sklearn', format: 'skops' }), 'sklearn / skops');
  assert.equal(frameworkLabel({ framework: 'onnx', format: 'onnx' }), 'onnx');
  assert.equal(frameworkLabel({ framework: null, format: null }), null);
});

test('approvals: the requester never, non-maintainers never, maintainers and admins yes', () => {
  const r = { requestedBy: 'dev' };
  const user = (username: string, isAdmin = false) => ({ username, isAdmin });
  assert.match(approvalBlocker(r, user('dev'), 'maintainer') ?? '', /four-eyes/);
  assert.match(approvalBlocker(r, user('dev', true), 'admin') ?? '', /four-eyes/);
  assert.match(approvalBlocker(r, user('vic'), 'developer') ?? '', /maintainer role/);
  assert.equal(approvalBlocker(r, user('mia'), 'maintainer'), null);
  assert.equal(approvalBlocker(r, user('root', true), 'viewer'), null);
});

test('lineage nodes link to their pages', () => {
  const n = (id: string, kind: Parameters<typeof lineageNodePath>[0]['kind'], attributes = {}) => ({
    id,
    kind,
    project: 'churn',
    attributes,
  });
  assert.equal(lineageNodePath(n('dataset:d-1', 'dataset')), '/experiments/datasets/d-1');
  assert.equal(lineageNodePath(n(`run:${RUN}`, 'run', { experimentId: '4' })), `/experiments/4/runs/${RUN}`);
  assert.equal(lineageNodePath(n(`run:${RUN}`, 'run')), null);
  assert.equal(
    lineageNodePath(n('logged_model:m-1', 'logged_model', { experimentId: '4' })),
    '/experiments/4/models/m-1',
  );
  assert.equal(
    lineageNodePath(n('model_version:fraud/2', 'model_version', { model: 'fraud', version: 2 })),
    '/models/churn/fraud/versions/2',
  );
  assert.equal(lineageNodePath(n('release:r1', 'release', { model: 'fraud' })), '/models/churn/fraud/releases');
  assert.equal(lineageNodePath(n('deployment:fraud-prod', 'deployment')), '/deployments/fraud-prod');
});

test('the lineage layout puts kinds in columns left to right and keeps linked nodes level', () => {
  const layout = layoutLineage({
    nodes: [
      { id: 'deployment:d', kind: 'deployment' },
      { id: 'release:r', kind: 'release' },
      { id: 'model_version:m/1', kind: 'model_version' },
      { id: 'run:b', kind: 'run' },
      { id: 'run:a', kind: 'run' },
      { id: 'dataset:y', kind: 'dataset' },
      { id: 'dataset:x', kind: 'dataset' },
    ],
    edges: [
      { from: 'dataset:x', to: 'run:b' },
      { from: 'dataset:y', to: 'run:a' },
      { from: 'run:b', to: 'model_version:m/1' },
      { from: 'model_version:m/1', to: 'release:r' },
      { from: 'release:r', to: 'deployment:d' },
      { from: 'model_version:m/1', to: 'dataset:y' },
      { from: 'run:a', to: 'nowhere' },
      { from: 'dataset:x', to: 'model_version:m/1' },
    ],
  });
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  // No logged models: five columns, in kind order.
  assert.deepEqual(
    ['dataset:x', 'run:a', 'model_version:m/1', 'release:r', 'deployment:d'].map((id) => at.get(id)!.column),
    [0, 1, 2, 3, 4],
  );
  assert.ok(at.get('run:a')!.x > at.get('dataset:x')!.x + NODE_WIDTH);
  // Each run sits level with the dataset it read (sorted by barycentre, not by name).
  assert.equal(at.get('run:b')!.y, at.get('dataset:x')!.y);
  assert.equal(at.get('run:a')!.y, at.get('dataset:y')!.y);
  // The edge to an unknown node is dropped; the one back to a dataset is drawn as backward.
  assert.equal(layout.edges.length, 7);
  assert.deepEqual(
    layout.edges.filter((e) => e.backward).map((e) => e.to),
    ['dataset:y'],
  );
  assert.ok(layout.edges.every((e) => e.path.startsWith('M') && e.path.includes(' C')));
  // The edge that skips the runs' column arcs above the top row (its control points are higher).
  const skip = layout.edges.find((e) => e.from === 'dataset:x' && e.to === 'model_version:m/1')!;
  const controlY = Number(/ C[\d.]+,(-?[\d.]+)/.exec(skip.path)![1]);
  assert.ok(controlY < Math.min(...layout.nodes.map((n) => n.y)), skip.path);
  for (const n of layout.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + NODE_WIDTH <= layout.width && n.y <= layout.height);
  }
  assert.deepEqual(layoutLineage({ nodes: [], edges: [] }).nodes, []);
});
