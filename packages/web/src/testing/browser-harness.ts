// The harness of the portal's browser tests: a real server (built, on a free port, fresh data
// dir) and Debian's Chromium through playwright-core, started once per test file, and `scenario`,
// which runs a test's steps in a fresh browser context and reports the step that failed with a
// screenshot, the page's errors and the server's log. It builds nothing: it needs `npm run build`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../../../..');
const SERVER_BIN = path.join(ROOT, 'packages/server/dist/bin.js');
const PORTAL_INDEX = path.join(ROOT, 'packages/web/dist/index.html');
export const SCREENSHOTS = path.join(ROOT, 'packages/web/test-output/screenshots');
const CHROMIUM = process.env.HANGAR_CHROMIUM ?? '/usr/bin/chromium';
export const ADMIN_PASSWORD = 'portal-test-password';
export const ADMIN_TOKEN = 'hgr_portal-browser-test-token-0123';
/** Generous: a cold Chromium on a busy CI machine is slow, and every wait ends early on success. */
export const STEP_TIMEOUT_MS = 20_000;

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
async function startServer(extraArgs: string[]): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hangar-portal-test-'));
  const args = [SERVER_BIN, '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...extraArgs];
  const proc = spawn(process.execPath, args, {
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

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/**
 * Starts the server and Chromium before the file's tests and stops both after them (both, even
 * when one fails to stop or a test failed). Call once at the top of a test file.
 */
/** Starts the server (with `serverArgs` added to its flags) and Chromium for the file's scenarios. */
export function usePortal(serverArgs: string[] = []): void {
  before(async () => {
    checkPrerequisites();
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startServer(serverArgs);
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
    const results = await Promise.allSettled([browser?.close(), server ? stopServer(server) : undefined]);
    browser = null;
    server = null;
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  });
}

/** What one scenario works with: its own browser context (fresh cookies and storage). */
export interface Scenario {
  base: string;
  context: BrowserContext;
  page: Page;
  /** Names the step; a failure reports the last one. */
  step: (name: string) => void;
  /** The CSRF token of the latest login answer (to act as the page would from outside it). */
  csrf: () => string;
}

/**
 * Runs `body` in a fresh context. Fails on uncaught exceptions and console errors in the portal
 * (other than the browser's own "Failed to load resource" lines for expected 4xx answers), and on
 * any state-changing API call sent without the session's CSRF token. On failure it saves
 * failure-<name>.png and reports the step, the page errors and the server's stderr.
 */
export async function scenario(
  t: TestContext,
  name: string,
  viewport: { width: number; height: number },
  body: (s: Scenario) => Promise<void>,
): Promise<void> {
  assert.ok(server && browser);
  const running = server;
  // A fixed locale: pages format numbers and dates for the reader, and tests read them.
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: running.url });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      pageErrors.push(`console: ${m.text()}`);
  });
  const unprotected: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/api/') || ['GET', 'HEAD', 'OPTIONS'].includes(r.method())) return;
    if (r.method() === 'POST' && url.pathname === '/api/v1/session') return; // login: no session yet
    if (!r.headers()['x-csrf-token']) unprotected.push(`${r.method()} ${url.pathname}`);
  });
  let csrf = '';
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/session' && r.ok()) {
      r.json().then(
        (b: { csrfToken: string }) => (csrf = b.csrfToken),
        () => undefined,
      );
    }
  });
  let step = 'start';
  const s: Scenario = {
    base: running.url,
    context,
    page,
    step: (n) => {
      step = n;
      t.diagnostic(n);
    },
    csrf: () => csrf,
  };
  try {
    await body(s);
    assert.deepEqual(pageErrors, [], 'the portal logged errors');
    assert.deepEqual(unprotected, [], 'state-changing calls without x-csrf-token');
  } catch (err) {
    await shot(page, `failure-${name}`).catch(() => undefined);
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `failed at step "${step}" (screenshot: packages/web/test-output/screenshots/failure-${name}.png): ${detail}\n` +
        `page errors: ${JSON.stringify(pageErrors)}\nserver stderr:\n${running.stderr().slice(-4000)}`,
      { cause: err },
    );
  } finally {
    await context.close();
  }
}

export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter'); // forms submit on Enter
}

export async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'hangar_session');
  assert.ok(cookie, 'a hangar_session cookie is set');
  return cookie.value;
}

/** GET /api/v1/session with a given cookie, from outside the browser: is that session alive? */
export async function sessionStatus(base: string, cookie: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/session`, { headers: { cookie: `hangar_session=${cookie}` } });
  await res.body?.cancel();
  return res.status;
}

/** Resolves after the browser has painted twice: React has committed what it was given before. */
export async function settled(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
}

/** The portal's section nav. */
export const sections = (page: Page) => page.getByRole('navigation', { name: 'Sections' });
