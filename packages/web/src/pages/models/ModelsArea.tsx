// The Models section: the current project's registered models and approval queue, and each
// model's versions, release history, gate results and lineage (the project is in those paths,
// since model names are unique per project only).
import { matchRoute } from '../../router.js';
import { NotFoundPage } from '../NotFoundPage.js';
import { ApprovalsPage } from './ApprovalsPage.js';
import { ModelPage } from './ModelPage.js';
import { ModelsPage } from './ModelsPage.js';
import { VersionPage } from './VersionPage.js';

const VERSION = /^[1-9]\d{0,9}$/;

/** The page for a path under /models; keyed by what it shows, so each starts clean. */
export function ModelsArea({ pathname }: { pathname: string }) {
  if (matchRoute('/models', pathname)) return <ModelsPage />;
  if (matchRoute('/models/approvals', pathname)) return <ApprovalsPage />;

  const model = matchRoute('/models/:project/:name', pathname);
  if (model?.project && model.name)
    return (
      <ModelPage key={`${model.project}/${model.name}`} project={model.project} name={model.name} tab="versions" />
    );
  const releases = matchRoute('/models/:project/:name/releases', pathname);
  if (releases?.project && releases.name)
    return (
      <ModelPage
        key={`${releases.project}/${releases.name}`}
        project={releases.project}
        name={releases.name}
        tab="releases"
      />
    );

  const version =
    matchRoute('/models/:project/:name/versions/:version', pathname) ??
    matchRoute('/models/:project/:name/versions/:version/:tab', pathname);
  if (version?.project && version.name && version.version && VERSION.test(version.version)) {
    const tab = version.tab === undefined ? 'overview' : version.tab === 'lineage' ? 'lineage' : null;
    if (tab)
      return (
        <VersionPage
          key={`${version.project}/${version.name}/${version.version}`}
          project={version.project}
          name={version.name}
          version={Number(version.version)}
          tab={tab}
        />
      );
  }
  return <NotFoundPage pathname={pathname} />;
}
