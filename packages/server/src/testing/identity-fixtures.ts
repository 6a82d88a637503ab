// Helpers for identity, access and audit tests: people, projects, sessions and audit reads through
// the HTTP API of a test app (app.http.inject), so the tests exercise what clients exercise.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { HangarApp } from '../app.js';
import type { Clock } from '../core/clock.js';
import type { DB } from '../db/schema.js';
import type { AuditEvent } from '../modules/audit/log.js';
import { adminAuth } from './test-app.js';

export type Headers = Record<string, string>;

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  constructor(public ms = Date.now()) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });
export const basic = (username: string, secret: string): Headers => ({
  authorization: `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`,
});

export function call(
  app: HangarApp,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  headers: Headers = {},
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return app.http.inject({ method, url, headers, payload: payload as never });
}

/** Asserts the status, printing the body when it differs. */
export function expectStatus(res: LightMyRequestResponse, status: number, what = ''): void {
  assert.equal(res.statusCode, status, `${what} -> ${res.statusCode} ${res.body}`);
}

export interface TestUser {
  username: string;
  password: string;
  /** An unscoped API token of the user. */
  token: string;
  auth: Headers;
}

/** Creates a user (as the bootstrap admin) with a password and an unscoped token. */
export async function createUser(
  app: HangarApp,
  username: string,
  opts: { isAdmin?: boolean } = {},
): Promise<TestUser> {
  const password = `pw-of-${username}-123`;
  const created = await call(app, 'POST', '/api/v1/users', adminAuth, { username, password, isAdmin: opts.isAdmin });
  expectStatus(created, 201, `create user ${username}`);
  const token = await createToken(app, basic(username, password), { name: `${username}-main` });
  return { username, password, token: token.token, auth: bearer(token.token) };
}

export async function createToken(
  app: HangarApp,
  auth: Headers,
  body: { name: string; project?: string; expiresInDays?: number },
): Promise<{ id: string; token: string }> {
  const res = await call(app, 'POST', '/api/v1/tokens', auth, body);
  expectStatus(res, 201, `create token ${body.name}`);
  return res.json();
}

export async function createTeam(app: HangarApp, name: string): Promise<void> {
  expectStatus(await call(app, 'POST', '/api/v1/teams', adminAuth, { name }), 201, `create team ${name}`);
}

export async function createProject(app: HangarApp, name: string, team = 'default'): Promise<{ id: string }> {
  const res = await call(app, 'POST', '/api/v1/projects', adminAuth, { name, team });
  expectStatus(res, 201, `create project ${name}`);
  return res.json();
}

export async function grant(app: HangarApp, project: string, username: string, role: string): Promise<void> {
  const res = await call(app, 'PUT', `/api/v1/projects/${project}/members/${username}`, adminAuth, { role });
  expectStatus(res, 200, `grant ${role} in ${project} to ${username}`);
}

export async function setTeamMember(app: HangarApp, team: string, username: string, role: string): Promise<void> {
  const res = await call(app, 'PUT', `/api/v1/teams/${team}/members/${username}`, adminAuth, { role });
  expectStatus(res, 200, `make ${username} ${role} of ${team}`);
}

export interface Login {
  /** The session cookie's value. */
  cookie: string;
  csrf: string;
  /** The whole Set-Cookie header. */
  setCookie: string;
  /** Headers of a GET with the session. */
  get: Headers;
  /** Headers of a state-changing request with the session and its CSRF token. */
  act: Headers;
}

export async function login(app: HangarApp, username: string, password: string, headers: Headers = {}): Promise<Login> {
  const res = await call(app, 'POST', '/api/v1/session', headers, { username, password });
  expectStatus(res, 200, `login ${username}`);
  const setCookie = String(res.headers['set-cookie']);
  const m = /^hangar_session=([^;]+);/.exec(setCookie);
  assert.ok(m, `no session cookie in ${setCookie}`);
  const cookie = m[1]!;
  const csrf = res.json<{ csrfToken: string }>().csrfToken;
  const get = { cookie: `hangar_session=${cookie}` };
  return { cookie, csrf, setCookie, get, act: { ...get, 'x-csrf-token': csrf } };
}

/** Audit events as the bootstrap admin sees them (newest first), every page. */
export async function auditEvents(app: HangarApp, query = ''): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/api/v1/audit?limit=1000${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await call(app, 'GET', url, adminAuth);
    expectStatus(res, 200, url);
    const page = res.json<{ items: AuditEvent[]; nextCursor: string | null }>();
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Polls until `check` returns a value (refusals are audited off the request path, a moment later). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for the one audit event matching `match` among those with the query, and returns it. */
export function auditedEvent(
  app: HangarApp,
  query: string,
  match: (e: AuditEvent) => boolean,
  what: string,
): Promise<AuditEvent> {
  return eventually(async () => (await auditEvents(app, query)).find(match), `audit event: ${what}`);
}

export async function countRows(app: HangarApp, table: keyof DB): Promise<number> {
  const r = await app.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const IDENTITY_TABLES = [
  'users',
  'api_tokens',
  'sessions',
  'teams',
  'team_members',
  'projects',
  'project_members',
  'secrets',
  'audit_events',
] as const;

/** Row counts of the tables a rejected identity request must leave alone. */
export async function identityCounts(app: HangarApp): Promise<Record<(typeof IDENTITY_TABLES)[number], number>> {
  const out = {} as Record<(typeof IDENTITY_TABLES)[number], number>;
  for (const t of IDENTITY_TABLES) out[t] = await countRows(app, t);
  return out;
}
