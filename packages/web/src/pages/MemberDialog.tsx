// The "add a member / change a role" dialog, shared by project and team membership.
import { useId, useState, type FormEvent } from 'react';
import { api } from '../api.js';
import { Button } from '../components/Button.js';
import { Dialog } from '../components/Dialog.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { Field } from '../components/Field.js';
import { Input, Select } from '../components/Input.js';
import { isFieldError, USERNAME, USERNAME_RULE } from '../forms.js';
import { useResource } from '../hooks.js';

export interface MemberDialogProps<R extends string> {
  title: string;
  /** Fixed for "change role"; empty for "add member". */
  username?: string;
  roles: readonly R[];
  initialRole: R;
  /** One line per role, shown under the select. */
  about?: Partial<Record<R, string>>;
  submitLabel: string;
  onSubmit: (username: string, role: R) => Promise<void>;
  onClose: () => void;
}

/**
 * Username (suggested from the user directory) and role. Stays open with the server's message
 * when the request fails (no such user, not allowed), closes on success.
 */
export function MemberDialog<R extends string>({
  title,
  username: fixedUsername,
  roles,
  initialRole,
  about,
  submitLabel,
  onSubmit,
  onClose,
}: MemberDialogProps<R>) {
  const [username, setUsername] = useState(fixedUsername ?? '');
  const [role, setRole] = useState<R>(initialRole);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [usernameError, setUsernameError] = useState<string | undefined>();
  const listId = useId();
  // Suggestions only; a failure here just means no suggestions.
  const users = useResource(
    (signal) => (fixedUsername ? Promise.resolve(null) : api().listUsers({ limit: 500 }, { signal })),
    [],
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const name = username.trim();
    const problem = !name ? 'Enter a username.' : USERNAME.test(name) ? undefined : `Usernames use ${USERNAME_RULE}.`;
    setUsernameError(problem);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name, role);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={title}
      onClose={onClose}
      onSubmit={(e) => void submit(e)}
      dismissable={!busy}
      size="sm"
      data-testid="member-dialog"
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={busy}>
            {submitLabel}
          </Button>
        </>
      }
    >
      {error !== null && !isFieldError(error, ['username']) && <ErrorBanner error={error} title="Not saved" />}
      {fixedUsername ? (
        <p>
          User <strong className="mono">{fixedUsername}</strong>
        </p>
      ) : (
        <Field label="Username" error={usernameError}>
          {(p) => (
            <Input
              {...p}
              list={listId}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          )}
        </Field>
      )}
      {users.data && (
        <datalist id={listId}>
          {users.data.items
            .filter((u) => !u.disabled)
            .map((u) => (
              <option key={u.id} value={u.username}>
                {u.displayName}
              </option>
            ))}
        </datalist>
      )}
      <Field label="Role" hint={about?.[role]}>
        {(p) => (
          <Select {...p} value={role} onChange={(e) => setRole(e.target.value as R)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </Select>
        )}
      </Field>
    </Dialog>
  );
}
