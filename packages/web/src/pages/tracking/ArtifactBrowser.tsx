import type { ArtifactEntry, Run } from '@hangar/sdk';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api.js';
import { Card } from '../../components/Card.js';
import { EmptyState } from '../../components/EmptyState.js';
import { ErrorBanner } from '../../components/ErrorBanner.js';
import { LoadingBlock, Spinner } from '../../components/Spinner.js';
import { formatBytes } from '../../format.js';
import { navigate, useLocation } from '../../router.js';
import { runPath } from '../../tracking.js';
import { ArtifactPreview } from './ArtifactPreview.js';

interface Folder {
  items: ArtifactEntry[] | null;
  error: unknown;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Folders first, then files, each by name. */
function sorted(items: readonly ArtifactEntry[]): ArtifactEntry[] {
  return [...items].sort((a, b) => (a.isDir === b.isDir ? a.path.localeCompare(b.path) : a.isDir ? -1 : 1));
}

/**
 * A run's artifacts: a folder tree (each folder listed when opened) beside a preview of the chosen
 * file. The chosen file is in the URL (`?path=`), so a preview can be linked to and survives a
 * reload; its folders open by themselves.
 */
export function ArtifactBrowser({ run }: { run: Run }) {
  const runId = run.info.runId;
  const { search } = useLocation();
  const selected = search.get('path') ?? '';
  const [folders, setFolders] = useState<Map<string, Folder>>(() => new Map());
  const [open, setOpen] = useState<Set<string>>(() => new Set(['']));
  const requested = useRef(new Set<string>());

  const list = useCallback(
    (path: string, force = false) => {
      if (requested.current.has(path) && !force) return;
      requested.current.add(path);
      setFolders((f) => new Map(f).set(path, { items: f.get(path)?.items ?? null, error: null }));
      api()
        .listRunArtifacts({ runId, path: path || undefined })
        .then(
          (res) => setFolders((f) => new Map(f).set(path, { items: sorted(res.items), error: null })),
          (err: unknown) => setFolders((f) => new Map(f).set(path, { items: null, error: err })),
        );
    },
    [runId],
  );

  // The folders of the chosen file open (and load) by themselves, e.g. for a shared link.
  useEffect(() => {
    const ancestors = [''];
    for (let p = parentOf(selected); p; p = parentOf(p)) ancestors.push(p);
    setOpen((o) => {
      if (ancestors.every((a) => o.has(a))) return o;
      return new Set([...o, ...ancestors]);
    });
  }, [selected]);
  useEffect(() => {
    for (const p of open) list(p);
  }, [open, list]);

  const toggle = (path: string) =>
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(path)) n.delete(path);
      else n.add(path);
      return n;
    });
  const choose = (path: string) =>
    navigate(runPath(run.info.experimentId, runId, 'artifacts', path), { replace: true });

  const root = folders.get('');
  const entry = folders.get(parentOf(selected))?.items?.find((e) => e.path === selected);

  if (root?.error) {
    return <ErrorBanner error={root.error} title="Could not list the artifacts" onRetry={() => list('', true)} />;
  }
  if (!root?.items) return <LoadingBlock label="Listing artifacts…" />;
  if (root.items.length === 0) {
    return (
      <Card>
        <EmptyState title="No artifacts">
          <p>
            This run has stored no files. MLflow clients store them with <code>mlflow.log_artifact()</code>.
          </p>
        </EmptyState>
      </Card>
    );
  }

  return (
    <Card flush>
      <div className="artifacts">
        <nav className="artifact-tree" aria-label="Artifact files" data-testid="artifact-tree">
          <TreeLevel
            path=""
            folders={folders}
            open={open}
            selected={selected}
            onToggle={toggle}
            onChoose={choose}
            onRetry={(p) => list(p, true)}
          />
        </nav>
        <div className="artifact-pane">
          {!selected ? (
            <EmptyState title="Choose a file">
              <p>Pick a file on the left to preview it.</p>
            </EmptyState>
          ) : entry && !entry.isDir ? (
            <ArtifactPreview key={selected} runId={runId} path={selected} size={entry.size ?? 0} />
          ) : folders.get(parentOf(selected))?.items ? (
            <EmptyState title="No such file">
              <p className="mono">{selected}</p>
            </EmptyState>
          ) : (
            <LoadingBlock label="Finding the file…" />
          )}
        </div>
      </div>
    </Card>
  );
}

interface TreeLevelProps {
  path: string;
  folders: Map<string, Folder>;
  open: Set<string>;
  selected: string;
  onToggle: (path: string) => void;
  onChoose: (path: string) => void;
  onRetry: (path: string) => void;
}

function TreeLevel({ path, folders, open, selected, onToggle, onChoose, onRetry }: TreeLevelProps) {
  const folder = folders.get(path);
  if (folder?.error) {
    return (
      <div className="tree-error">
        <ErrorBanner error={folder.error} title="Could not list this folder" onRetry={() => onRetry(path)} />
      </div>
    );
  }
  if (!folder?.items) {
    return (
      <p className="tree-loading muted small">
        <Spinner size="sm" label="" /> Listing…
      </p>
    );
  }
  if (folder.items.length === 0) return <p className="tree-empty muted small">Empty folder</p>;
  return (
    <ul className="tree" role="list">
      {folder.items.map((e) => {
        const name = nameOf(e.path);
        if (e.isDir) {
          const isOpen = open.has(e.path);
          return (
            <li key={e.path}>
              <button
                type="button"
                className="tree-item tree-folder"
                aria-expanded={isOpen}
                onClick={() => onToggle(e.path)}
                data-artifact={e.path}
              >
                <span className="tree-caret" aria-hidden="true">
                  {isOpen ? '▾' : '▸'}
                </span>
                <span className="tree-name">{name}/</span>
              </button>
              {isOpen && (
                <div className="tree-children">
                  <TreeLevel {...{ folders, open, selected, onToggle, onChoose, onRetry }} path={e.path} />
                </div>
              )}
            </li>
          );
        }
        const current = e.path === selected;
        return (
          <li key={e.path}>
            <button
              type="button"
              className={current ? 'tree-item tree-file active' : 'tree-item tree-file'}
              aria-current={current ? 'true' : undefined}
              onClick={() => onChoose(e.path)}
              data-artifact={e.path}
            >
              <span className="tree-caret" aria-hidden="true" />
              <span className="tree-name" title={e.path}>
                {name}
              </span>
              <span className="tree-size muted">{formatBytes(e.size)}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
