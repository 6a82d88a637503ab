import type { LineageNode } from '@hangar/sdk';
import { useMemo, type MouseEvent } from 'react';
import { api } from '../../api.js';
import { Banner } from '../../components/Banner.js';
import { Card } from '../../components/Card.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { LoadingBlock } from '../../components/Spinner.js';
import { Table, type Column } from '../../components/Table.js';
import { useResource } from '../../hooks.js';
import {
  layoutLineage,
  lineageNodePath,
  NODE_HEIGHT,
  NODE_WIDTH,
  releaseStatusLabel,
  versionNodeId,
  type LineageKind,
  type ReleaseStatus,
} from '../../models.js';
import { Link, navigate } from '../../router.js';

const KIND_LABELS: Record<LineageKind, string> = {
  dataset: 'Dataset version',
  run: 'Run',
  logged_model: 'Logged model',
  model_version: 'Model version',
  release: 'Release',
  deployment: 'Deployment',
};

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A node's second line: what matters about it at a glance. */
function detailOf(n: LineageNode): string {
  const a = n.attributes;
  switch (n.kind) {
    case 'dataset':
      return [str(a.digest)?.slice(0, 12), str(a.sourceType)].filter(Boolean).join(' · ');
    case 'run':
      return [str(a.status)?.toLowerCase(), str(a.user)].filter(Boolean).join(' · ');
    case 'logged_model':
      return str(a.status)?.toLowerCase() ?? '';
    case 'model_version': {
      const gate = str(a.gateStatus);
      return [str(a.stage), gate ? `gate ${gate}${a.gateOverridden === true ? ' (overridden)' : ''}` : null]
        .filter(Boolean)
        .join(' · ');
    }
    case 'release': {
      const status = str(a.status);
      return [str(a.environment), status ? releaseStatusLabel(status as ReleaseStatus) : null]
        .filter(Boolean)
        .join(' · ');
    }
    case 'deployment':
      return [str(a.environment), str(a.status)].filter(Boolean).join(' · ');
  }
}

/** Cuts a label to fit a node box (the full text is in the node's tooltip). */
function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A version's lineage: the datasets, runs and logged models it came from and the releases made of
 * it, drawn left to right; each node opens its page. A table below lists the same nodes for
 * keyboard and screen-reader users (and for copying ids).
 */
export function LineageView({ project, name, version }: { project: string; name: string; version: number }) {
  const node = versionNodeId(name, version);
  const res = useResource(
    (signal) => api().getLineage({ project, node, direction: 'both' }, { signal }),
    [project, node],
  );
  const g = res.data;
  const layout = useMemo(() => (g ? layoutLineage(g) : null), [g]);
  if (!g || !layout) {
    return res.error !== null ? (
      <ErrorBanner error={res.error} title="Could not load the lineage" onRetry={res.reload} />
    ) : (
      <LoadingBlock label="Loading the lineage…" />
    );
  }
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  // Plain clicks navigate in place (as `Link` does); modified ones open a tab as links do.
  const open = (to: string) => (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  const columns: Column<LineageNode>[] = [
    { key: 'kind', header: 'Kind', width: '9rem', render: (n) => KIND_LABELS[n.kind] },
    {
      key: 'label',
      header: 'Node',
      render: (n) => {
        const to = lineageNodePath(n);
        return to ? <Link to={to}>{n.label}</Link> : n.label;
      },
    },
    { key: 'detail', header: 'Details', render: (n) => detailOf(n) },
    { key: 'project', header: 'Project', width: '8rem', render: (n) => n.project },
  ];
  return (
    <>
      {g.truncated && (
        <Banner tone="warning" title="Partial graph">
          The graph reached its node limit; some nodes further away are left out.
        </Banner>
      )}
      <Card title="Lineage" flush>
        <div className="lineage-scroll" data-testid="lineage-graph">
          <svg
            className="lineage-svg"
            width={layout.width}
            height={layout.height}
            viewBox={`0 0 ${layout.width} ${layout.height}`}
            role="group"
            aria-label={`Lineage of ${name} v${version}: ${g.nodes.length} nodes, ${g.edges.length} links`}
          >
            <defs>
              <marker
                id="lineage-arrow"
                viewBox="0 0 8 8"
                refX="8"
                refY="4"
                markerWidth="8"
                markerHeight="8"
                orient="auto"
              >
                <path d="M0,0 L8,4 L0,8 z" className="lineage-arrow" />
              </marker>
            </defs>
            {layout.edges.map((e) => {
              const rel = g.edges.find((x) => x.from === e.from && x.to === e.to);
              return (
                <path
                  key={`${e.from}>${e.to}`}
                  d={e.path}
                  className={e.backward ? 'lineage-edge lineage-edge-back' : 'lineage-edge'}
                  markerEnd="url(#lineage-arrow)"
                  data-edge={`${e.from}>${e.to}`}
                >
                  <title>
                    {rel?.relation.replace(/_/g, ' ')}
                    {rel?.context ? ` (${rel.context})` : ''}
                  </title>
                </path>
              );
            })}
            {layout.nodes.map((p) => {
              const n = byId.get(p.id)!;
              const to = lineageNodePath(n);
              const root = n.id === g.root;
              const body = (
                <>
                  <title>{`${KIND_LABELS[n.kind]}: ${n.label}`}</title>
                  <rect
                    x={p.x}
                    y={p.y}
                    width={NODE_WIDTH}
                    height={NODE_HEIGHT}
                    rx={6}
                    className={`lineage-node lineage-${n.kind}${root ? ' lineage-root' : ''}`}
                  />
                  <text x={p.x + 10} y={p.y + 19} className="lineage-label">
                    {fit(n.label, 23)}
                  </text>
                  <text x={p.x + 10} y={p.y + 37} className="lineage-detail">
                    {fit(`${KIND_LABELS[n.kind]}${detailOf(n) ? ` · ${detailOf(n)}` : ''}`, 28)}
                  </text>
                </>
              );
              return to ? (
                <a
                  key={n.id}
                  href={to}
                  onClick={open(to)}
                  aria-label={`${KIND_LABELS[n.kind]} ${n.label}`}
                  data-node={n.id}
                  data-kind={n.kind}
                  className="lineage-link"
                >
                  {body}
                </a>
              ) : (
                <g key={n.id} data-node={n.id} data-kind={n.kind}>
                  {body}
                </g>
              );
            })}
          </svg>
        </div>
        <ul className="lineage-legend" aria-label="Legend">
          {(Object.keys(KIND_LABELS) as LineageKind[]).map((k) => (
            <li key={k}>
              <span className={`lineage-swatch lineage-${k}`} aria-hidden="true" /> {KIND_LABELS[k]}
            </li>
          ))}
        </ul>
      </Card>
      <Card title={`Nodes (${g.nodes.length})`} flush>
        <Table
          caption="Nodes of the lineage graph"
          columns={columns}
          rows={g.nodes}
          rowKey={(n) => n.id}
          rowAttributes={(n) => ({ 'data-node': n.id })}
        />
      </Card>
    </>
  );
}
