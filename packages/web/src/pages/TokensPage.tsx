import type { CreateTokenResponse, Token } from '@hangar/sdk';
import { useState } from 'react';
import { api } from '../api.js';
import { Badge } from '../components/Badge.js';
import { Banner } from '../components/Banner.js';
import { Button } from '../components/Button.js';
import { Card } from '../components/Card.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { Field } from '../components/Field.js';
import { FormDialog } from '../components/FormDialog.js';
import { Input, Select } from '../components/Input.js';
import { LoadedTable } from '../components/LoadedTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { SecretReveal } from '../components/SecretReveal.js';
import type { Column } from '../components/Table.js';
import { formatDate, formatDateTime, NONE } from '../format.js';
import { serverFieldError } from '../forms.js';
import { useAction, useDocumentTitle, useResource } from '../hooks.js';
import { useProjects } from '../project.js';

const EXPIRY_CHOICES: readonly { days: number | null; label: string }[] = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: null, label: 'Never' },
];

function tokenStatus(t: Token, now: number): { label: string; tone: 'success' | 'neutral' | 'warning' } {
  if (t.revokedAt) return { label: 'revoked', tone: 'neutral' };
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return { label: 'expired', tone: 'warning' };
  return { label: 'active', tone: 'success' };
}

function Time({ iso }: { iso: string | null }) {
  if (!iso) return <>{NONE}</>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatDate(iso)}
    </time>
  );
}

/**
 * The caller's API tokens (for the CLI, the SDKs, CI): create one, optionally confined to one
 * project and with an expiry, see its secret exactly once, and revoke it. Reached from the account
 * menu by everyone, and from the admin area.
 */
export function TokensPage({ inAdmin = false }: { inAdmin?: boolean }) {
  useDocumentTitle('API tokens');
  const tokens = useResource((signal) => api().listTokens({}, { signal }), []);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const now = Date.now();

  const columns: Column<Token>[] = [
    { key: 'name', header: 'Name', render: (t) => t.name },
    { key: 'prefix', header: 'Starts with', width: '8rem', mono: true, render: (t) => `${t.prefix}…` },
    {
      key: 'project',
      header: 'Scope',
      width: '10rem',
      render: (t) =>
        t.project ? <span className="mono">{t.project}</span> : <span className="muted">all projects</span>,
    },
    { key: 'created', header: 'Created', width: '7.5rem', render: (t) => <Time iso={t.createdAt} /> },
    { key: 'expires', header: 'Expires', width: '7.5rem', render: (t) => <Time iso={t.expiresAt} /> },
    { key: 'used', header: 'Last used', width: '7.5rem', render: (t) => <Time iso={t.lastUsedAt} /> },
    {
      key: 'status',
      header: 'Status',
      width: '6.5rem',
      render: (t) => {
        const s = tokenStatus(t, now);
        return <Badge tone={s.tone}>{s.label}</Badge>;
      },
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '6.5rem',
      align: 'right',
      render: (t) =>
        t.revokedAt ? null : (
          <Button size="sm" variant="ghost" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
            Revoke
          </Button>
        ),
    },
  ];

  return (
    <>
      <PageHeader
        title={inAdmin ? 'Your API tokens' : 'API tokens'}
        subtitle="Tokens let the CLI, the SDKs and CI jobs act as you. Confine them to one project where you can."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create token
          </Button>
        }
      />
      {notice && (
        <Banner tone="success" role="status">
          <p>{notice}</p>
        </Banner>
      )}
      <Card flush>
        <LoadedTable
          rows={tokens.data?.items ?? null}
          error={tokens.error}
          errorTitle="Could not load your tokens"
          onRetry={tokens.reload}
          loadingLabel="Loading tokens…"
          caption="Your API tokens"
          columns={columns}
          rowKey={(t) => t.id}
          rowAttributes={(t) => ({ 'data-token': t.name })}
          empty="No tokens yet."
        />
      </Card>
      {creating && (
        <CreateTokenDialog
          onCreated={(t) => {
            setNotice(`Created token "${t.name}".`);
            tokens.reload();
          }}
          onClose={() => setCreating(false)}
        />
      )}
      {revoking && (
        <ConfirmDialog
          title="Revoke token"
          confirmLabel="Revoke token"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api().revokeToken({ id: revoking.id });
            setRevoking(null);
            setNotice(`Revoked token "${revoking.name}".`);
            tokens.reload();
          }}
        >
          <p>
            Revoke <strong>{revoking.name}</strong> ({revoking.prefix}…)? Anything using it stops working at once. This
            cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateTokenDialog({
  onCreated,
  onClose,
}: {
  onCreated: (t: CreateTokenResponse) => void;
  onClose: () => void;
}) {
  const { projects } = useProjects();
  const [name, setName] = useState('');
  const [project, setProject] = useState('');
  const [days, setDays] = useState('30');
  const [nameError, setNameError] = useState<string | undefined>();
  const action = useAction();
  const [created, setCreated] = useState<CreateTokenResponse | null>(null);

  const submit = () => {
    const trimmed = name.trim();
    const problem = trimmed ? undefined : 'Give the token a name, e.g. where it will be used.';
    setNameError(problem);
    if (problem) return;
    void action.run(async () => {
      const t = await api().createToken({
        body: { name: trimmed, project: project || undefined, expiresInDays: days ? Number(days) : undefined },
      });
      setCreated(t);
      onCreated(t);
    });
  };

  return (
    <FormDialog
      title="Create an API token"
      submitLabel="Create token"
      onSubmit={submit}
      onClose={onClose}
      action={action}
      fields={['name']}
      errorTitle="Not created"
      result={
        created && { title: 'Token created', content: <TokenCreated token={created} />, 'data-testid': 'token-created' }
      }
    >
      <Field
        label="Name"
        hint="Where it will be used, e.g. “laptop CLI” or “CI nightly”."
        error={nameError ?? serverFieldError(action.error, 'name')}
      >
        {(p) => <Input {...p} maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Project" hint="A token confined to one project cannot touch any other.">
        {(p) => (
          <Select {...p} value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">All my projects</option>
            {(projects ?? []).map((pr) => (
              <option key={pr.id} value={pr.name}>
                {pr.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="Expires after">
        {(p) => (
          <Select {...p} value={days} onChange={(e) => setDays(e.target.value)}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.days === null ? '' : String(c.days)}>
                {c.label}
              </option>
            ))}
          </Select>
        )}
      </Field>
    </FormDialog>
  );
}

/** The new token: what it may do, and its secret, shown this once. */
function TokenCreated({ token: created }: { token: CreateTokenResponse }) {
  return (
    <>
      <p>
        <strong>{created.name}</strong>
        {created.project ? (
          <>
            {' '}
            can act only in project <span className="mono">{created.project}</span>
          </>
        ) : (
          ' can act in all your projects'
        )}
        {created.expiresAt ? `, until ${formatDateTime(created.expiresAt)}.` : ', with no expiry.'}
      </p>
      <SecretReveal label="API token" value={created.token} />
      <p className="muted small">
        Use it as <code>Authorization: Bearer …</code>, or with <code>hangar login --token</code>.
      </p>
    </>
  );
}
