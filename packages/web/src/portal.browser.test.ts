// Drives the built portal in a real Chromium against a real server. Two scenarios:
// - jobs: cookie-session login (wrong password first), overview, a no-op job reaching `succeeded`,
//   the live log and Cancel of a running job, a deep link after reload, logout (the session is
//   revoked on the server), a deep link while logged out, and a session ended elsewhere;
// - admin: create a user (generated password shown once), a team, a project owned by it, grant a
//   member, switch project, create a project-scoped token (secret shown once), read the audit log
//   (filters, chain verification, export), log out; then that user, a viewer, is refused the admin
//   area (hidden nav, "not allowed" on direct URLs).
// Every state-changing API call the portal makes must carry the session's CSRF token.
// It builds nothing itself: it needs `npm run build` (packages/server/dist and packages/web/dist).
// Screenshots of the key steps go to packages/web/test-output/screenshots/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HangarClient } from '@hangar/sdk';
import {
  ADMIN_PASSWORD,
  ADMIN_TOKEN,
  logIn,
  scenario,
  sections,
  sessionCookie,
  sessionStatus,
  settled,
  shot,
  usePortal,
} from './testing/browser-harness.js';

usePortal();

test('portal: login, overview, jobs, live log, cancel, deep links, logout', { timeout: 180_000 }, async (t) => {
  await scenario(t, 'jobs', { width: 1280, height: 800 }, async ({ base, context, page, step, csrf }) => {
    const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });

    step('an anonymous visit lands on the login page');
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();

    step('a wrong password shows the error with its code and request id');
    await logIn(page, 'admin', 'not-the-password');
    const alert = page.getByRole('alert');
    await alert.getByText('Could not log in').waitFor();
    assert.equal(await alert.getByTestId('error-code').textContent(), 'unauthenticated');
    assert.match((await alert.getByTestId('error-request-id').textContent()) ?? '', /\S/);
    await shot(page, '01-login-wrong-password');

    step('the right password logs in with an HttpOnly cookie; the CSRF token is kept in memory only');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const { version } = await sdk.version();
    await page.getByTestId('server-version').filter({ hasText: version }).waitFor();
    assert.equal(await page.getByTestId('whoami-username').textContent(), 'admin');
    const cookie = (await context.cookies()).find((c) => c.name === 'hangar_session');
    assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict', 'session cookie is HttpOnly and SameSite=Strict');
    assert.ok(csrf().length > 0, 'login answered with a CSRF token');
    // A string expression: this file is type-checked without the DOM library.
    const stored = await page.evaluate<string>(
      'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })',
    );
    assert.ok(!stored.includes(csrf()), 'the CSRF token is not in web storage');
    assert.ok(!stored.includes(cookie.value), 'the session cookie is not readable by the page');
    await shot(page, '02-overview');

    step('the nav is reachable with the keyboard');
    const jobsLink = sections(page).getByRole('link', { name: 'Jobs', exact: true });
    let reached = false;
    for (let i = 0; i < 10 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await jobsLink.evaluate((el) => el === el.ownerDocument.activeElement);
    }
    assert.ok(reached, 'Tab reaches the Jobs link in the nav');

    step('a no-op job run from the Jobs page reaches succeeded in the table');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/jobs`);
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Run a no-op job' }).click();
    const queued = page.getByRole('status').filter({ hasText: 'Queued job' }).getByRole('link');
    const noopId = (await queued.textContent())?.trim() ?? '';
    assert.match(noopId, /^[0-9a-z]{26}$/);
    const noopRow = page.locator(`tr[data-job-id="${noopId}"]`);
    await noopRow.locator('[data-col="kind"]').filter({ hasText: 'system.noop' }).waitFor();
    await noopRow.locator('[data-job-state="succeeded"]').waitFor();
    await shot(page, '03-jobs-noop-succeeded');

    step('a running exec job shows its output live and can be cancelled');
    const exec = await sdk.enqueueJob({
      body: { kind: 'system.exec', payload: { command: ['sh', '-c', 'echo hello-from-job; sleep 30'] } },
    });
    // The table picks the new job up on its next refresh; open it from there like a user would.
    await page.locator(`tr[data-job-id="${exec.id}"] a.job-link`).click();
    await page.waitForURL(`${base}/jobs/${exec.id}`);
    await page.getByTestId('job-id').filter({ hasText: exec.id }).waitFor();
    await page.getByTestId('job-log').filter({ hasText: 'hello-from-job' }).waitFor();
    await page.getByTestId('job-state').locator('[data-job-state="running"]').waitFor();
    await shot(page, '04-job-running-live-log');
    await page.getByTestId('cancel-job').click();
    await page.getByTestId('job-state').locator('[data-job-state="cancelled"]').waitFor();
    await page.getByTestId('cancel-job').waitFor({ state: 'detached' });
    assert.equal((await sdk.getJob({ id: exec.id })).state, 'cancelled');
    await shot(page, '05-job-cancelled');

    step('a deep link survives a reload while logged in (the cookie session is restored)');
    await page.reload();
    await page.getByTestId('job-id').filter({ hasText: exec.id }).waitFor();
    await page.getByTestId('job-state').locator('[data-job-state="cancelled"]').waitFor();
    await page.getByTestId('job-log').filter({ hasText: 'hello-from-job' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/jobs/${exec.id}`);

    step('"Load more" pages through the jobs, and live refreshes keep the loaded pages');
    await Promise.all(Array.from({ length: 50 }, () => sdk.enqueueJob({ body: { kind: 'system.noop', payload: {} } })));
    await sections(page).getByRole('link', { name: 'Jobs', exact: true }).click();
    const rows = page.locator('tr[data-job-id]');
    await page.getByRole('button', { name: 'Load more' }).click();
    // 50 new no-ops + the first no-op + the exec job.
    await page.locator(`tr[data-job-id="${noopId}"]`).waitFor();
    assert.equal(await rows.count(), 52);
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    // The next background refresh of the first page must not drop the pages loaded after it.
    await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/jobs' && r.request().method() === 'GET', {
      timeout: 15_000,
    });
    await settled(page);
    assert.equal(await rows.count(), 52);

    step('the nav marks the sections still to come');
    const soon = sections(page).getByRole('link', { name: /Pipelines/ });
    assert.match((await soon.textContent()) ?? '', /coming soon/);

    step('logging out ends the session on the server and lands on the login page');
    const loggedInCookie = await sessionCookie(context);
    assert.equal(await sessionStatus(base, loggedInCookie), 200);
    await page.getByRole('button', { name: /admin/ }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(await sessionStatus(base, loggedInCookie), 401, 'the old cookie no longer opens a session');
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    await shot(page, '06-logged-out');

    step('a deep link while logged out returns there after logging in');
    await page.goto(`${base}/jobs/${noopId}`);
    await page.waitForURL(`${base}/login?next=${encodeURIComponent(`/jobs/${noopId}`)}`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/jobs/${noopId}`);
    await page.getByTestId('job-state').locator('[data-job-state="succeeded"]').waitFor();

    step('a session ended elsewhere (another tab logged out) ends this one on the next call');
    const res = await fetch(`${base}/api/v1/session`, {
      method: 'DELETE',
      headers: { cookie: `hangar_session=${await sessionCookie(context)}`, 'x-csrf-token': csrf() },
    });
    assert.equal(res.status, 204);
    await sections(page).getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.waitForURL(`${base}/login?next=${encodeURIComponent('/jobs')}`);
    await page.getByText('Your session has ended').waitFor();
    await shot(page, '07-session-ended');
  });
});

test('admin: users, teams, projects, members, tokens, audit; a viewer is kept out', { timeout: 180_000 }, async (t) => {
  await scenario(t, 'admin', { width: 1440, height: 900 }, async ({ base, context, page, step }) => {
    const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });
    const dialog = page.getByRole('dialog');

    step('an admin logs in and opens the admin area from the nav');
    await page.goto(`${base}/`);
    await logIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await sections(page).getByRole('link', { name: 'Admin' }).click();
    await page.waitForURL(`${base}/admin/users`);
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await page.locator('tr[data-user="admin"]').waitFor();

    step('creating a user without a password shows the generated one once');
    await page.getByRole('button', { name: 'Create user' }).click();
    await dialog.getByLabel('Username').fill('vera');
    await dialog.getByLabel('Display name').fill('Vera Viewer');
    await dialog.getByLabel('Display name').press('Enter');
    await dialog.getByRole('heading', { name: 'User created' }).waitFor();
    const veraPassword = await dialog.getByTestId('secret-value').inputValue();
    assert.ok(veraPassword.length >= 8, 'a generated password is shown');
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), veraPassword);
    await shot(page, '10-admin-user-created-password-once');
    await page.keyboard.press('Escape'); // dialogs close on Escape
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('secret-value').count(), 0, 'the password is gone once closed');
    await page.locator('tr[data-user="vera"]').waitFor();

    step('a user can be disabled and enabled again');
    const vera = page.locator('tr[data-user="vera"]');
    await vera.getByRole('button', { name: 'Disable' }).click();
    await dialog.getByRole('button', { name: 'Disable user' }).click();
    await vera.getByText('disabled', { exact: true }).waitFor();
    await vera.getByRole('button', { name: 'Enable' }).click();
    await dialog.getByRole('button', { name: 'Enable user' }).click();
    await vera.getByText('active', { exact: true }).waitFor();
    await shot(page, '11-admin-users');

    step('vera leaves the default team (so the project below is her only one)');
    const adminTabs = page.getByRole('navigation', { name: 'Admin' });
    await adminTabs.getByRole('link', { name: 'Teams' }).click();
    await page.locator('tr[data-team="default"] a').click();
    await page.waitForURL(`${base}/admin/teams/default`);
    await page.locator('tr[data-member="vera"]').getByRole('button', { name: 'Remove' }).click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.locator('tr[data-member="vera"]').waitFor({ state: 'detached' });

    step('creating a team opens it; a lead is added with the keyboard');
    await adminTabs.getByRole('link', { name: 'Teams' }).click();
    await page.getByRole('button', { name: 'Create team' }).click();
    for (let i = 0; i < 8; i++) await page.keyboard.press('Tab'); // focus stays in the dialog
    assert.ok(await page.evaluate<boolean>("document.querySelector('dialog[open]').contains(document.activeElement)"));
    await dialog.getByLabel('Name', { exact: true }).fill('ML Platform'); // not a valid name: the form says so
    await dialog.getByLabel('Name', { exact: true }).press('Enter');
    await dialog.getByText('Use lower-case letters').waitFor();
    await dialog.getByLabel('Name', { exact: true }).fill('ml-platform');
    await dialog.getByLabel('Display name').fill('ML Platform');
    await dialog.getByRole('button', { name: 'Create team' }).click();
    await page.waitForURL(`${base}/admin/teams/ml-platform`);
    await page.getByText('Created team ml-platform.').waitFor();
    await page.getByRole('button', { name: 'Add member' }).click();
    await dialog.getByLabel('Username').fill('admin');
    await dialog.getByLabel('Role').selectOption('lead');
    await dialog.getByLabel('Username').press('Enter');
    await page.locator('tr[data-member="admin"] [data-role="lead"]').waitFor();
    await shot(page, '12-admin-team');

    step('creating a project for the team, then granting vera viewer on it');
    await adminTabs.getByRole('link', { name: 'Projects' }).click();
    await page.locator('tr[data-project="default"]').waitFor();
    await page.getByRole('button', { name: 'Create project' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('churn');
    await dialog.getByLabel('Owning team').selectOption('ml-platform');
    await dialog.getByLabel('Display name').fill('Churn model');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(`${base}/admin/projects/churn`);
    await page.locator('tr[data-member="admin"] [data-role="admin"]').waitFor(); // team lead -> admin
    await page.getByRole('button', { name: 'Add member' }).click();
    await dialog.getByLabel('Username').fill('vera');
    await dialog.getByLabel('Role').selectOption('viewer');
    await dialog.getByRole('button', { name: 'Add member' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tr[data-member="vera"] [data-role="viewer"]').waitFor();
    await shot(page, '13-admin-project-members');

    step('the project switcher offers the new project and remembers the choice across a reload');
    const switcher = page.getByTestId('project-switcher');
    await switcher.selectOption('churn');
    await page.reload();
    await page.locator('tr[data-member="vera"]').waitFor();
    assert.equal(await switcher.inputValue(), 'churn');

    step('a token scoped to the project is created; its secret is shown once and works');
    await adminTabs.getByRole('link', { name: 'Tokens' }).click();
    await page.waitForURL(`${base}/admin/tokens`);
    await page.getByRole('button', { name: 'Create token' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('ci-nightly');
    await dialog.getByLabel('Project').selectOption('churn');
    await dialog.getByLabel('Expires after').selectOption('30');
    await dialog.getByLabel('Name', { exact: true }).press('Enter');
    await dialog.getByRole('heading', { name: 'Token created' }).waitFor();
    await dialog.getByText('This is the only time it is shown').waitFor();
    const secret = await dialog.getByTestId('secret-value').inputValue();
    assert.match(secret, /^hgr_/);
    const asToken = await new HangarClient({ baseUrl: base, token: secret }).whoami();
    assert.equal(asToken.username, 'admin');
    assert.notEqual(asToken.projectId, null, 'the token is confined to a project');
    await shot(page, '14-admin-token-created-once');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    const tokenRow = page.locator('tr[data-token="ci-nightly"]');
    await tokenRow.getByText('churn').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is not on the page any more');
    await page.reload();
    await tokenRow.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'nor after a reload');
    await shot(page, '15-admin-tokens');
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, '15b-admin-tokens-1280');
    await page.setViewportSize({ width: 1440, height: 900 });

    step('the audit log lists those actions; filters narrow it');
    await adminTabs.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${base}/admin/audit`);
    const tokenId = (await sdk.listTokens()).items.find((tk) => tk.name === 'ci-nightly')?.id;
    assert.ok(tokenId);
    for (const [action, target] of [
      ['user.create', 'vera'],
      ['user.disable', 'vera'],
      ['team.member.remove', 'default'],
      ['team.create', 'ml-platform'],
      ['team.member.set', 'ml-platform'],
      ['project.create', 'churn'],
      ['project.member.set', 'churn'],
      ['token.create', tokenId],
    ] as const) {
      await page.locator(`tr[data-action="${action}"][data-target="${target}"]`).first().waitFor();
    }
    await shot(page, '16-admin-audit');
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, '16b-admin-audit-1280');
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.getByLabel('Action').fill('project.*');
    await page.getByLabel('Action').press('Enter');
    await page.waitForURL(/action=project\.\*/);
    await page.locator('tr[data-action="team.create"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-action="project.member.set"]').first().waitFor();
    const actions = await page
      .locator('tr[data-action]')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')));
    assert.ok(
      actions.length > 0 && actions.every((a) => a?.startsWith('project.')),
      `only project.* rows: ${actions.join()}`,
    );
    await page.getByLabel('Actor').fill('admin');
    await page.getByLabel('Outcome').selectOption('success');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.waitForURL(/outcome=success/);
    assert.equal(new URL(page.url()).searchParams.get('actor'), 'admin');

    step('an event opens with its details');
    await page
      .locator('tr[data-action="project.member.set"]')
      .first()
      .getByRole('button', { name: /Details/ })
      .click();
    await dialog.getByText('"user": "vera"').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    step('"Verify chain" checks the hash chain on the server');
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByTestId('verify-result').filter({ hasText: 'Chain verified' }).waitFor();
    await shot(page, '17-admin-audit-verified');

    step('"Export" downloads the matching events as NDJSON');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export NDJSON' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /\.ndjson$/);
    const exported = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; actor: string });
    assert.ok(exported.some((e) => e.action === 'project.create'));
    assert.ok(
      exported.every((e) => e.action.startsWith('project.') && e.actor === 'admin'),
      'the export follows the filters',
    );

    step('logging out really ends the session: a reload lands on the login page');
    const cookie = await sessionCookie(context);
    await page.getByRole('button', { name: /admin/ }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await sessionStatus(base, cookie), 401);

    step('vera (viewer of churn only) sees no admin nav');
    await logIn(page, 'vera', veraPassword);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await sections(page).getByRole('link', { name: 'Jobs', exact: true }).waitFor();
    assert.equal(await sections(page).getByRole('link', { name: 'Admin' }).count(), 0, 'no Admin link');
    // The switcher fills in once the project list arrives: wait for it before reading every option.
    await switcher.locator('option', { hasText: 'Churn model' }).waitFor({ state: 'attached' });
    const options = await switcher.locator('option').allTextContents();
    assert.deepEqual(options, ['Churn model (churn) · viewer']);

    step('vera is refused the admin pages by direct URL');
    for (const p of ['/admin', '/admin/users', '/admin/audit', '/admin/projects/churn']) {
      await page.goto(`${base}${p}`);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
      await page.getByTestId('not-allowed').waitFor();
      assert.equal(await page.getByRole('button', { name: /Create user|Verify chain|Add member/ }).count(), 0);
    }
    await shot(page, '18-viewer-not-allowed');

    step('vera sees the project settings read-only');
    await sections(page).getByRole('link', { name: 'Project settings' }).click();
    await page.waitForURL(`${base}/projects/churn/settings`);
    await page.locator('tr[data-member="vera"] [data-role="viewer"]').waitFor();
    await page.getByText('Only project admins').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add member' }).count(), 0);
    await shot(page, '19-viewer-project-settings');

    step('a team lead (not a platform admin) manages the members from the project settings');
    await sdk.createUser({ body: { username: 'liam', password: 'liam-password-1' } });
    await sdk.setTeamMember({ team: 'ml-platform', username: 'liam', body: { role: 'lead' } });
    await page.getByRole('button', { name: /vera/ }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await logIn(page, 'liam', 'liam-password-1');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await switcher.selectOption('churn');
    await sections(page).getByRole('link', { name: 'Project settings' }).click();
    await page.waitForURL(`${base}/projects/churn/settings`);
    await page.locator('tr[data-member="vera"]').getByRole('button', { name: 'Change role' }).click();
    await dialog.getByLabel('Role').selectOption('developer');
    await dialog.getByRole('button', { name: 'Save role' }).click();
    await page.locator('tr[data-member="vera"] [data-role="developer"]').waitFor();
    await page
      .getByRole('table', { name: /Recent audit events/ })
      .locator('tr[data-action="project.member.set"]')
      .first()
      .waitFor();
    await shot(page, '20-lead-project-settings');
    await page.goto(`${base}/admin/teams`);
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  });
});
