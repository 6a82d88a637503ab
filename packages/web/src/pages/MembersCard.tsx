// The members of a project or a team with their roles, and the add / change role / remove dialogs:
// the project settings (ProjectMembersCard) and the admin area's team page differ only in the
// roles, a column or two, the calls and the wording, which they pass in.
import { useState, type ReactNode } from 'react';
import { Badge } from '../components/Badge.js';
import { Button } from '../components/Button.js';
import { Card } from '../components/Card.js';
import { ConfirmDialog } from '../components/ConfirmDialog.js';
import { LoadedTable } from '../components/LoadedTable.js';
import type { Column } from '../components/Table.js';
import { NONE } from '../format.js';
import { MemberDialog } from './MemberDialog.js';

/** What every member row has, in a project or in a team. */
export interface Member<R extends string> {
  username: string;
  displayName: string;
  role: R;
}

export interface MemberRoles<R extends string> {
  /** Weakest first, as the select offers them. */
  all: readonly R[];
  /** One line per role, shown under the select. */
  about: Record<R, string>;
  /** Preselected when adding a member. */
  initial: R;
  /** The role that administers, highlighted in the table. */
  top: R;
  /** The role column's width: enough for the longest role. */
  columnWidth: string;
}

export interface MembersCardProps<R extends string, M extends Member<R>> {
  /** Null until loaded. */
  members: readonly M[] | null;
  /** The last load's failure; the table keeps the members loaded before it. */
  error: unknown;
  errorTitle: string;
  onRetry: () => void;
  caption: string;
  empty: string;
  roles: MemberRoles<R>;
  /** Columns after the role: where it comes from, or since when. */
  detailColumns: Column<M>[];
  /** Offers add, change role and remove; false shows the list only. */
  canManage: boolean;
  /** The title of the "Add member" dialog. */
  addTitle: string;
  /** A row's role button: its words, its dialog's title and the role the dialog starts at. */
  roleEdit: (m: M) => { label: string; title: string; initial: R };
  /** Whether a row offers Remove (in a project, only a direct grant can be removed). */
  canRemove?: (m: M) => boolean;
  /** The remove dialog's question, with its consequences. */
  removeQuestion: (m: M) => ReactNode;
  /** Gives `username` the role; the dialog closes when it resolves and stays open on an error. */
  setRole: (username: string, role: R) => Promise<void>;
  /** Takes the member out; likewise. */
  remove: (m: M) => Promise<void>;
  /** Shown above the table (the last change's notice). */
  children?: ReactNode;
}

type Editing<M> = { kind: 'add' } | { kind: 'role'; member: M } | { kind: 'remove'; member: M };

/** The members table in a "Members" card, with the dialogs that change who is in it. */
export function MembersCard<R extends string, M extends Member<R>>({
  members,
  error,
  errorTitle,
  onRetry,
  caption,
  empty,
  roles,
  detailColumns,
  canManage,
  addTitle,
  roleEdit,
  canRemove = () => true,
  removeQuestion,
  setRole,
  remove,
  children,
}: MembersCardProps<R, M>) {
  const [editing, setEditing] = useState<Editing<M> | null>(null);
  const close = () => setEditing(null);
  const saveRole = async (username: string, role: R) => {
    await setRole(username, role);
    close();
  };

  const columns: Column<M>[] = [
    { key: 'username', header: 'User', width: '13rem', mono: true, render: (m) => m.username },
    { key: 'name', header: 'Name', render: (m) => m.displayName || NONE },
    {
      key: 'role',
      header: 'Role',
      width: roles.columnWidth,
      render: (m) => (
        <Badge tone={m.role === roles.top ? 'info' : 'neutral'}>
          <span data-role={m.role}>{m.role}</span>
        </Badge>
      ),
    },
    ...detailColumns,
  ];
  if (canManage) {
    columns.push({
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      actions: true,
      width: '13rem',
      align: 'right',
      render: (m) => (
        <span className="row-actions">
          <Button size="sm" onClick={() => setEditing({ kind: 'role', member: m })}>
            {roleEdit(m).label}
          </Button>
          {canRemove(m) && (
            <Button size="sm" variant="ghost" onClick={() => setEditing({ kind: 'remove', member: m })}>
              Remove
            </Button>
          )}
        </span>
      ),
    });
  }

  return (
    <Card
      title="Members"
      flush
      actions={
        canManage && (
          <Button size="sm" variant="primary" onClick={() => setEditing({ kind: 'add' })}>
            Add member
          </Button>
        )
      }
    >
      {children}
      <LoadedTable
        rows={members}
        error={error}
        errorTitle={errorTitle}
        onRetry={onRetry}
        loadingLabel="Loading members…"
        caption={caption}
        columns={columns}
        rowKey={(m) => m.username}
        rowAttributes={(m) => ({ 'data-member': m.username })}
        empty={empty}
      />
      {editing?.kind === 'add' && (
        <MemberDialog<R>
          title={addTitle}
          roles={roles.all}
          initialRole={roles.initial}
          about={roles.about}
          submitLabel="Add member"
          onClose={close}
          onSubmit={saveRole}
        />
      )}
      {editing?.kind === 'role' && (
        <MemberDialog<R>
          title={roleEdit(editing.member).title}
          username={editing.member.username}
          roles={roles.all}
          initialRole={roleEdit(editing.member).initial}
          about={roles.about}
          submitLabel="Save role"
          onClose={close}
          onSubmit={saveRole}
        />
      )}
      {editing?.kind === 'remove' && (
        <ConfirmDialog
          title="Remove member"
          confirmLabel="Remove"
          danger
          onClose={close}
          onConfirm={async () => {
            await remove(editing.member);
            close();
          }}
        >
          <p>{removeQuestion(editing.member)}</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}
