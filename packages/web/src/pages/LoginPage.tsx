import { useState, type FormEvent } from 'react';
import { lastSessionEnd, logIn } from '../api.js';
import { Button } from '../components/Button.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Field } from '../components/Field.js';
import { useDocumentTitle } from '../hooks.js';

/**
 * Username + password. On success api.ts starts the session and the app moves on to where the
 * user was going (`?next=`); this page only reports failures.
 */
export function LoginPage() {
  useDocumentTitle('Log in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const expired = lastSessionEnd() === 'expired';

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
            <p className="notice" role="status">
              Your session has ended. Log in again to continue.
            </p>
          )}
          {error !== null && <ErrorBanner error={error} title="Could not log in" />}
          <form className="form" onSubmit={(e) => void submit(e)} noValidate={false}>
            <Field label="Username">
              {(p) => (
                <input
                  {...p}
                  className="input"
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
                <input
                  {...p}
                  className="input"
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
