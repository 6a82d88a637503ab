import { useState, type FormEvent } from 'react';
import { HangarApiError } from '@hangar/sdk';
import { logIn, type SessionEnd } from '../api.js';
import { Banner } from '../components/Banner.js';
import { Button } from '../components/Button.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Field } from '../components/Field.js';
import { Input } from '../components/Input.js';
import { useDocumentTitle } from '../hooks.js';

/** The words for a failed login; a lock-out says how long to wait. */
function failureTitle(err: unknown): string {
  if (err instanceof HangarApiError && err.status === 429) {
    const wait = Number(err.details?.retryAfterSeconds);
    return Number.isFinite(wait) && wait > 0
      ? `Too many failed attempts: try again in ${Math.ceil(wait / 60)} min`
      : 'Too many failed attempts: try again later';
  }
  return 'Could not log in';
}

/**
 * Username + password. On success api.ts starts the session (the server sets the cookie) and the
 * app moves on to where the user was going (`?next=`); this page only reports failures.
 */
export function LoginPage({ end }: { end: SessionEnd }) {
  useDocumentTitle('Log in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const expired = end === 'expired';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await logIn(username.trim(), password);
    } catch (err) {
      setError(err);
      // Keep the username; a wrong password is the usual mistake.
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <div className="login-box">
        <div className="login-brand">
          <span className="brand-mark brand-mark-lg" aria-hidden="true">
            H
          </span>
          <span className="login-product">Hangar</span>
        </div>
        <div className="card login-card">
          <h1 className="login-title">Log in</h1>
          {expired && !error && (
            <Banner tone="info">
              <p>Your session has ended. Log in again to continue.</p>
            </Banner>
          )}
          {error !== null && <ErrorBanner error={error} title={failureTitle(error)} />}
          <form className="form" onSubmit={(e) => void submit(e)}>
            <Field label="Username">
              {(p) => (
                <Input
                  {...p}
                  name="username"
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                  required
                  autoFocus
                  value={username}
                  onChange={(e) => setUsername(e.target.value)}
                />
              )}
            </Field>
            <Field label="Password">
              {(p) => (
                <Input
                  {...p}
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              )}
            </Field>
            <Button type="submit" variant="primary" loading={busy} className="btn-block">
              Log in
            </Button>
          </form>
        </div>
        <p className="login-footnote">Use the account your platform admin gave you.</p>
      </div>
    </div>
  );
}
