// The portal's sections, in nav order. `ready: false` sections are listed (so users see where the
// product is going) but lead to a "coming soon" page until their issue lands; they must not show
// invented data in the meantime.
export interface Section {
  path: string;
  label: string;
  ready: boolean;
  /** Shown to platform admins only. */
  adminOnly?: boolean;
  /** One line for the "coming soon" page: what the section will hold. */
  about: string;
}

export const SECTIONS: readonly Section[] = [
  { path: '/', label: 'Overview', ready: true, about: 'Server status and your account.' },
  { path: '/jobs', label: 'Jobs', ready: true, about: 'Background jobs, their logs and resource usage.' },
  {
    path: '/experiments',
    label: 'Experiments',
    ready: true,
    about: 'Tracked runs with their parameters, metrics and artifacts.',
  },
  {
    path: '/models',
    label: 'Models',
    ready: true,
    about: 'Versioned models with lineage, evaluation gates and approvals.',
  },
  {
    path: '/deployments',
    label: 'Deployments',
    ready: true,
    about: 'Serving endpoints and their rollouts (A/B, canary, shadow).',
  },
  {
    path: '/pipelines',
    label: 'Pipelines',
    ready: false,
    about: 'Training and validation pipelines, scheduled or triggered.',
  },
  { path: '/features', label: 'Features', ready: false, about: 'Feature views and online feature lookups.' },
  {
    path: '/monitoring',
    label: 'Monitoring',
    ready: false,
    about: 'Drift, quality and cost of deployed models, and their alerts.',
  },
  {
    path: '/admin',
    label: 'Admin',
    ready: true,
    adminOnly: true,
    about: 'Users, teams, projects, API tokens and the audit log.',
  },
];

/** The section a path belongs to (`/jobs/123` is in Jobs), for highlighting the nav. */
export function sectionOf(pathname: string): Section | undefined {
  if (pathname === '/') return SECTIONS[0];
  return SECTIONS.find((s) => s.path !== '/' && (pathname === s.path || pathname.startsWith(`${s.path}/`)));
}
