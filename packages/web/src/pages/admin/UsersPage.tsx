import type { CreateUserResponse, ListUsersResponse, User } from '@hangar/sdk';
import { useEffect, useState, type FormEvent } from 'react';
import { api, refreshSession } from '../../api.js';
import { Badge } from '../../components/Badge.js';
import { Banner } from '../../components/Banner.js';
import { Button } from '../../components/Button.js';
import { Card } from '../../components/Card.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { timeColumn } from '../../components/DateTime.js';
import { Field } from '../../components/Field.js';
import { FormDialog } from '../../components/FormDialog.js';
import { Checkbox, Input } from '../../components/Input.js';
import { LoadedTable, LoadMore } from '../../components/LoadedTable.js';
import { PageHeader } from '../../components/PageHeader.js';
import { SecretReveal } from '../../components/SecretReveal.js';
import type { Column } from '../../components/Table.js';
import { NONE } from '../../format.js';
import { serverFieldError, USERNAME, USERNAME_RULE, valid, type FieldErrors } from '../../forms.js';
import { useAction, useDocumentTitle } from '../../hooks.js';
import { useMe } from '../../session.js';

const PAGE_SIZE = 100;

type Change = { user: User; body: { disabled?: boolean; isAdmin?: boolean } };

/** The user directory for platform admins: create users, disable and enable them, grant admin. */
export function UsersPage() {
  useDocumentTitle('Users');
  const me = useMe();
  const [query, setQuery] = useState('');
  const [draft, setDraft] = useState('');
  const [includeDisabled, setIncludeDisabled] = useState(true);
  const [page, setPage] = useState<ListUsersResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const [creating, setCreating] = useState(false);
  const [change, setChange] = useState<Change | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    api()
      .listUsers({ query: query || undefined, includeDisabled, limit: PAGE_SIZE }, { signal: ac.signal })
      .then(setPage)
      .catch((err: unknown) => !ac.signal.aborted && setError(err));
    return () => ac.abort();
  }, [query, includeDisabled, attempt]);

  const loadMore = async () => {
    if (!page?.nextCursor) return;
    setLoadingMore(true);
    try {
      const more = await api().listUsers({
        query: query || undefined,
        includeDisabled,
        limit: PAGE_SIZE,
        cursor: page.nextCursor,
      });
      setPage({ items: [...page.items, ...more.items], nextCursor: more.nextCursor });
    } catch (err) {
      setError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  const replace = (u: User) => setPage((p) => p && { ...p, items: p.items.map((x) => (x.id === u.id ? u : x)) });

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    setQuery(draft.trim());
  };

  const columns: Column<User>[] = [
    { key: 'username', header: 'Username', width: '12rem', mono: true, render: (u) => u.username },
    { key: 'name', header: 'Name', render: (u) => u.displayName || NONE },
    { key: 'email', header: 'Email', render: (u) => u.email ?? NONE },
    {
      key: 'role',
      header: 'Role',
      width: '7rem',
      render: (u) => (u.isAdmin ? <Badge tone="info">admin</Badge> : <span className="muted">user</span>),
    },
    {
      key: 'status',
      header: 'Status',
      width: '6.5rem',
      render: (u) => (u.disabled ? <Badge tone="warning">disabled</Badge> : <Badge tone="success">active</Badge>),
    },
    timeColumn('created', 'Created', (u) => u.createdAt),
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '14.5rem',
      align: 'right',
      render: (u) => {
        const self = u.id === me.id;
        return (
          <span className="row-actions">
            <Button
              size="sm"
              disabled={self}
              title={self ? 'You cannot change your own admin flag here' : undefined}
              onClick={() => setChange({ user: u, body: { isAdmin: !u.isAdmin } })}
            >
              {u.isAdmin ? 'Remove admin' : 'Make admin'}
            </Button>
            <Button
              size="sm"
              variant="ghost"
              disabled={self}
              title={self ? 'You cannot disable yourself' : undefined}
              onClick={() => setChange({ user: u, body: { disabled: !u.disabled } })}
            >
              {u.disabled ? 'Enable' : 'Disable'}
            </Button>
          </span>
        );
      },
    },
  ];

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Everyone who can log in. New users join the default team."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create user
          </Button>
        }
      />
      {notice && (
        <Banner tone="success">
          <p>{notice}</p>
        </Banner>
      )}
      <Card flush>
        <form className="filter-bar" onSubmit={onSearch} role="search" aria-label="Find users">
          <Field label="Search" className="field-inline field-grow">
            {(p) => (
              <Input
                {...p}
                type="search"
                placeholder="username or name"
                value={draft}
                onChange={(e) => setDraft(e.target.value)}
              />
            )}
          </Field>
          <Checkbox
            label="Include disabled"
            checked={includeDisabled}
            onChange={(e) => setIncludeDisabled(e.target.checked)}
          />
          <div className="filter-actions">
            <Button type="submit">Search</Button>
          </div>
        </form>
        <LoadedTable
          rows={page?.items ?? null}
          error={error}
          errorTitle="Could not load users"
          onRetry={() => setAttempt((n) => n + 1)}
          loadingLabel="Loading users…"
          caption="Users"
          columns={columns}
          rowKey={(u) => u.id}
          rowAttributes={(u) => ({ 'data-user': u.username })}
          empty={query ? 'No user matches.' : 'No users.'}
        >
          {page?.nextCursor && <LoadMore loading={loadingMore} onLoadMore={() => void loadMore()} />}
        </LoadedTable>
      </Card>
      {creating && (
        <CreateUserDialog
          onCreated={(r) => {
            setNotice(`Created user ${r.user.username}.`);
            setAttempt((n) => n + 1);
          }}
          onClose={() => setCreating(false)}
        />
      )}
      {change && (
        <ConfirmDialog
          title={describe(change).title}
          confirmLabel={describe(change).confirm}
          danger={change.body.disabled === true || change.body.isAdmin === false}
          onClose={() => setChange(null)}
          onConfirm={async () => {
            const updated = await api().updateUser({ username: change.user.username, body: change.body });
            replace(updated);
            setChange(null);
            setNotice(`${describe(change).done}.`);
            if (updated.id === me.id) await refreshSession();
          }}
        >
          <p>{describe(change).text}</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function describe({ user, body }: Change): { title: string; confirm: string; text: string; done: string } {
  const who = user.username;
  if (body.disabled === true)
    return {
      title: 'Disable user',
      confirm: 'Disable user',
      text: `${who} will no longer be able to log in or use their API tokens. You can enable them again later.`,
      done: `Disabled ${who}`,
    };
  if (body.disabled === false)
    return {
      title: 'Enable user',
      confirm: 'Enable user',
      text: `${who} will be able to log in again.`,
      done: `Enabled ${who}`,
    };
  if (body.isAdmin === true)
    return {
      title: 'Make platform admin',
      confirm: 'Make admin',
      text: `${who} will be able to manage every user, team and project, and read the whole audit log.`,
      done: `${who} is now a platform admin`,
    };
  return {
    title: 'Remove platform admin',
    confirm: 'Remove admin',
    text: `${who} keeps their project and team roles but loses platform-wide powers.`,
    done: `${who} is no longer a platform admin`,
  };
}

type UserField = 'username' | 'displayName' | 'email' | 'password';

function CreateUserDialog({ onCreated, onClose }: { onCreated: (r: CreateUserResponse) => void; onClose: () => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [isAdmin, setIsAdmin] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<UserField>>({});
  const action = useAction();
  const [created, setCreated] = useState<CreateUserResponse | null>(null);

  const submit = () => {
    const name = username.trim();
    const found: FieldErrors<UserField> = {
      username: !name ? 'Enter a username.' : USERNAME.test(name) ? undefined : `Use ${USERNAME_RULE}.`,
      email: email.trim() && !/^[^\s@]+@[^\s@]+$/.test(email.trim()) ? 'This is not an email address.' : undefined,
      password: password && password.length < 8 ? 'At least 8 characters, or leave it empty.' : undefined,
    };
    setErrors(found);
    if (!valid(found)) return;
    void action.run(async () => {
      const r = await api().createUser({
        body: {
          username: name,
          displayName: displayName.trim() || undefined,
          email: email.trim() || undefined,
          password: password || undefined,
          isAdmin,
        },
      });
      onCreated(r);
      if (r.generatedPassword) setCreated(r);
      else onClose();
    });
  };

  const fieldError = (f: UserField) => errors[f] ?? serverFieldError(action.error, f);
  return (
    <FormDialog
      title="Create a user"
      submitLabel="Create user"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['username', 'displayName', 'email', 'password']}
      errorTitle="Not created"
      result={
        created?.generatedPassword
          ? {
              title: 'User created',
              content: <PasswordCreated username={created.user.username} password={created.generatedPassword} />,
              'data-testid': 'user-created',
            }
          : null
      }
    >
      <Field label="Username" error={fieldError('username')}>
        {(p) => (
          <Input
            {...p}
            autoCapitalize="none"
            autoComplete="off"
            spellCheck={false}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        )}
      </Field>
      <Field label="Display name" hint="Optional; defaults to the username." error={fieldError('displayName')}>
        {(p) => <Input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
      </Field>
      <Field label="Email" hint="Optional." error={fieldError('email')}>
        {(p) => <Input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} />}
      </Field>
      <Field
        label="Password"
        hint="Leave empty to generate one; it is shown once, after creating."
        error={fieldError('password')}
      >
        {(p) => (
          <Input
            {...p}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <Checkbox
        label="Platform admin"
        hint="Can manage every user, team and project."
        checked={isAdmin}
        onChange={(e) => setIsAdmin(e.target.checked)}
      />
    </FormDialog>
  );
}

/** The password the server generated for a new user, shown this once. */
function PasswordCreated({ username, password }: { username: string; password: string }) {
  return (
    <>
      <p>
        Give <strong className="mono">{username}</strong> this password over a safe channel; they can change it after
        logging in.
      </p>
      <SecretReveal label={`Password for ${username}`} value={password} />
    </>
  );
}
