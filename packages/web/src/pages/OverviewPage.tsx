import type { Job, VersionResponse } from '@hangar/sdk';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.js';
import { PageHeader } from '../components/PageHeader.js';
import { Badge } from '../components/Badge.js';
import { Card } from '../components/Card.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LoadingBlock } from '../components/Spinner.js';
import { Table } from '../components/Table.js';
import { useDocumentTitle, useNow } from '../hooks.js';
import { jobColumns } from '../job-columns.js';
import { isActive, NONE } from '../format.js';
import { Link } from '../router.js';
import { useProjects } from '../project.js';
import { useMe } from '../session.js';

/** What this server is and who you are, plus the latest jobs. */
export function OverviewPage() {
  useDocumentTitle('Overview');
  const me = useMe();
  const { current } = useProjects();
  const [version, setVersion] = useState<VersionResponse | null>(null);
  const [versionError, setVersionError] = useState<unknown>(null);
  const [recent, setRecent] = useState<Job[] | null>(null);
  const [recentError, setRecentError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const now = useNow(recent?.some(isActive) ?? false);

  useEffect(() => {
    const ac = new AbortController();
    setVersionError(null);
    setRecentError(null);
    api()
      .version({ signal: ac.signal })
      .then(setVersion)
      .catch((err: unknown) => !ac.signal.aborted && setVersionError(err));
    api()
      .listJobs({ limit: 5 }, { signal: ac.signal })
      .then((page) => setRecent(page.items))
      .catch((err: unknown) => !ac.signal.aborted && setRecentError(err));
    return () => ac.abort();
  }, [attempt]);

  return (
    <>
      <PageHeader title="Overview" subtitle={`Welcome, ${me.displayName || me.username}.`} />
      <div className="grid-2">
        <Card title="Server">
          {versionError !== null ? (
            <ErrorBanner error={versionError} title="Could not read the server version" onRetry={retry} />
          ) : !version ? (
            <LoadingBlock />
          ) : (
            <dl className="kv" data-testid="server-info">
              <dt>Version</dt>
              <dd data-testid="server-version">{version.version}</dd>
              <dt>Metadata store</dt>
              <dd>{version.engine}</dd>
              <dt>Roles</dt>
              <dd className="badge-row">
                {version.roles.length ? version.roles.map((r) => <Badge key={r}>{r}</Badge>) : NONE}
              </dd>
              <dt>Node.js</dt>
              <dd>{version.node}</dd>
            </dl>
          )}
        </Card>
        <Card title="You">
          <dl className="kv" data-testid="whoami">
            <dt>Username</dt>
            <dd data-testid="whoami-username">{me.username}</dd>
            <dt>Name</dt>
            <dd>{me.displayName || NONE}</dd>
            <dt>Email</dt>
            <dd>{me.email ?? NONE}</dd>
            <dt>Role</dt>
            <dd>{me.isAdmin ? <Badge tone="info">platform admin</Badge> : 'user'}</dd>
            <dt>Project</dt>
            <dd data-testid="current-project">
              {current ? (
                <>
                  <Link to={`/projects/${encodeURIComponent(current.name)}/settings`} className="text-link mono">
                    {current.name}
                  </Link>{' '}
                  <Badge>{current.role}</Badge>
                </>
              ) : (
                NONE
              )}
            </dd>
          </dl>
        </Card>
      </div>
      <Card
        title="Recent jobs"
        actions={
          <Link to="/jobs" className="text-link">
            All jobs →
          </Link>
        }
        flush
      >
        {recentError !== null ? (
          <div className="card-pad">
            <ErrorBanner error={recentError} title="Could not load jobs" onRetry={retry} />
          </div>
        ) : !recent ? (
          <LoadingBlock />
        ) : (
          <Table
            caption="Recent jobs"
            columns={jobColumns(now, ['id', 'kind', 'state', 'created', 'duration'])}
            rows={recent}
            rowKey={(j) => j.id}
            empty="No jobs yet."
          />
        )}
      </Card>
    </>
  );
}
