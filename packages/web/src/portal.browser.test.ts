// Drives the built portal in a real Chromium against a real server: log in (wrong password first),
// overview, a no-op job reaching `succeeded`, the live log and Cancel of a running job, a deep link
// after reload, logout, and a deep link while logged out. It builds nothing itself: it needs
// `npm run build` (packages/server/dist and packages/web/dist). Screenshots of the key steps go to
// test-output/screenshots/ at the repository root.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HangarClient } from '@hangar/sdk';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SERVER_BIN = path.join(ROOT, 'packages/server/dist/bin.js');
const PORTAL_INDEX = path.join(ROOT, 'packages/web/dist/index.html');
const SCREENSHOTS = path.join(ROOT, 'test-output/screenshots');
const CHROMIUM = process.env.HANGAR_CHROMIUM ?? '/usr/bin/chromium';
const ADMIN_PASSWORD = 'portal-test-password';
const ADMIN_TOKEN = 'hgr_portal-browser-test-token-0123';
/** Generous: a cold Chromium on a busy CI machine is slow, and every wait ends early on success. */
const STEP_TIMEOUT_MS = 20_000;

interface RunningServer {
  proc: ChildProcess;
  url: string;
  dataDir: string;
  stderr: () => string;
}

let server: RunningServer | null = null;
let browser: Browser | null = null;

function checkPrerequisites(): void {
  const missing: string[] = [];
  if (!existsSync(SERVER_BIN))
    missing.push(`${path.relative(ROOT, SERVER_BIN)} (build the server: npx tsc -b packages/server)`);
  if (!existsSync(PORTAL_INDEX))
    missing.push(`${path.relative(ROOT, PORTAL_INDEX)} (build the portal: npm run build -w @hangar/web)`);
  if (missing.length)
    throw new Error(`the portal browser test needs built packages; missing:\n  ${missing.join('\n  ')}`);
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (the test command does: apt-get install chromium), or set HANGAR_CHROMIUM`,
    );
  }
}

/** Starts the built server on a free port with a fresh data dir; resolves once it says it is ready. */
async function startServer(): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-portal-test-'));
  const proc = spawn(process.execPath, [SERVER_BIN, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, HANGAR_ADMIN_PASSWORD: ADMIN_PASSWORD, HANGAR_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready within 30 s:\n${err}`)), 30_000);
    proc.stderr!.on('data', () => {
      const m = /ready at (http:\/\/[^/\s]+)\//.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it was ready:\n${err}`));
    });
  });
  return { proc, url, dataDir, stderr: () => err };
}

async function stopServer(s: RunningServer): Promise<void> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => s.proc.once('exit', () => resolve()));
    s.proc.kill('SIGTERM');
    const killer = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
  rmSync(s.dataDir, { recursive: true, force: true });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

before(async () => {
  checkPrerequisites();
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A non-persistent context: Playwright gives Chromium a fresh temporary profile and removes it.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  // Both are stopped even when the other fails to stop, and even when the scenario failed.
  const results = await Promise.allSettled([browser?.close(), server ? stopServer(server) : undefined]);
  browser = null;
  server = null;
  for (const r of results) if (r.status === 'rejected') throw r.reason;
});

test('portal: login, overview, jobs, live log, cancel, deep links, logout', { timeout: 180_000 }, async (t) => {
  assert.ok(server && browser);
  const base = server.url;
  const sdk = new HangarClient({ baseUrl: base, token: ADMIN_TOKEN });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  // Uncaught exceptions in the portal fail the test; so do console errors other than the browser's
  // own "Failed to load resource" lines for the expected 401 of the wrong password.
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      pageErrors.push(`console: ${m.text()}`);
  });
  let step = 'start';
  const stepTo = (name: string) => {
    step = name;
    t.diagnostic(name);
  };

  try {
    stepTo('an anonymous visit lands on the login page');
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();

    stepTo('a wrong password shows the error with its code and request id');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByLabel('Password').press('Enter'); // forms submit on Enter
    const alert = page.getByRole('alert');
    await alert.getByText('Could not log in').waitFor();
    assert.equal(await alert.getByTestId('error-code').textContent(), 'unauthenticated');
    assert.match((await alert.getByTestId('error-request-id').textContent()) ?? '', /\S/);
    await shot(page, '01-login-wrong-password');

    stepTo('the right password logs in and the overview shows the server version');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const { version } = await sdk.version();
    await page.getByTestId('server-version').filter({ hasText: version }).waitFor();
    assert.equal(await page.getByTestId('whoami-username').textContent(), 'admin');
    await shot(page, '02-overview');

    stepTo('the nav is reachable with the keyboard');
    const jobsLink = page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('link', { name: 'Jobs', exact: true });
    let reached = false;
    for (let i = 0; i < 8 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await jobsLink.evaluate((el) => el === el.ownerDocument.activeElement);
    }
    assert.ok(reached, 'Tab reaches the Jobs link in the nav');

    stepTo('a no-op job run from the Jobs page reaches succeeded in the table');
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

    stepTo('a running exec job shows its output live and can be cancelled');
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

    stepTo('a deep link survives a reload while logged in');
    await page.reload();
    await page.getByTestId('job-id').filter({ hasText: exec.id }).waitFor();
    await page.getByTestId('job-state').locator('[data-job-state="cancelled"]').waitFor();
    await page.getByTestId('job-log').filter({ hasText: 'hello-from-job' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/jobs/${exec.id}`);

    stepTo('"Load more" pages through the jobs, and live refreshes keep the loaded pages');
    await Promise.all(Array.from({ length: 50 }, () => sdk.enqueueJob({ body: { kind: 'system.noop', payload: {} } })));
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs', exact: true }).click();
    const rows = page.locator('tr[data-job-id]');
    await page.getByRole('button', { name: 'Load more' }).click();
    // 50 new no-ops + the first no-op + the exec job.
    await page.locator(`tr[data-job-id="${noopId}"]`).waitFor();
    assert.equal(await rows.count(), 52);
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    await page.waitForTimeout(2500); // at least one refresh of the first page
    assert.equal(await rows.count(), 52);

    stepTo('the nav marks the sections still to come');
    const soon = page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: /Experiments/ });
    assert.match((await soon.textContent()) ?? '', /coming soon/);

    stepTo('logging out revokes the token and lands on the login page');
    await page.getByRole('button', { name: /admin/ }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${base}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    assert.equal(await page.evaluate<number>('window.sessionStorage.length'), 0);
    const tokens = await sdk.listTokens();
    const portalTokens = tokens.items.filter((tk) => tk.name === 'portal');
    assert.ok(portalTokens.length > 0 && portalTokens.every((tk) => tk.revokedAt !== null), 'portal token revoked');
    await shot(page, '06-logged-out');

    stepTo('a deep link while logged out returns there after logging in');
    await page.goto(`${base}/jobs/${noopId}`);
    await page.waitForURL(`${base}/login?next=${encodeURIComponent(`/jobs/${noopId}`)}`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${base}/jobs/${noopId}`);
    await page.getByTestId('job-state').locator('[data-job-state="succeeded"]').waitFor();

    stepTo('a token revoked elsewhere ends the session on the next call');
    for (const tk of (await sdk.listTokens()).items) {
      if (tk.name === 'portal' && tk.revokedAt === null) await sdk.revokeToken({ id: tk.id });
    }
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.waitForURL(`${base}/login?next=${encodeURIComponent('/jobs')}`);
    await page.getByText('Your session has ended').waitFor();
    await shot(page, '07-session-ended');

    assert.deepEqual(pageErrors, [], 'the portal logged errors');
  } catch (err) {
    await shot(page, 'failure').catch(() => undefined);
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `failed at step "${step}" (screenshot: test-output/screenshots/failure.png): ${detail}\n` +
        `page errors: ${JSON.stringify(pageErrors)}\nserver stderr:\n${server.stderr().slice(-4000)}`,
      { cause: err },
    );
  } finally {
    await context.close();
  }
});
