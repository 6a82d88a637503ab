// The "add a member / change a role" dialog, shared by project and team membership.
import { useId, useState } from 'react';
import { api } from '../api.js';
import { Field } from '../components/Field.js';
import { FormDialog } from '../components/FormDialog.js';
import { Input, Select } from '../components/Input.js';
import { serverFieldError, USERNAME, USERNAME_RULE } from '../forms.js';
import { useAction, useResource } from '../hooks.js';

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
  const action = useAction();
  const [usernameError, setUsernameError] = useState<string | undefined>();
  const listId = useId();
  // Suggestions only; a failure here just means no suggestions.
  const users = useResource(
    (signal) => (fixedUsername ? Promise.resolve(null) : api().listUsers({ limit: 500 }, { signal })),
    [],
  );

  const submit = () => {
    const name = username.trim();
    const problem = !name ? 'Enter a username.' : USERNAME.test(name) ? undefined : `Usernames use ${USERNAME_RULE}.`;
    setUsernameError(problem);
    if (problem) return;
    void action.run(() => onSubmit(name, role));
  };

  return (
    <FormDialog
      title={title}
      submitLabel={submitLabel}
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['username']}
      errorTitle="Not saved"
      size="sm"
      data-testid="member-dialog"
    >
      {fixedUsername ? (
        <p>
          User <strong className="mono">{fixedUsername}</strong>
        </p>
      ) : (
        <Field label="Username" error={usernameError ?? serverFieldError(action.error, 'username')}>
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
    </FormDialog>
  );
}
