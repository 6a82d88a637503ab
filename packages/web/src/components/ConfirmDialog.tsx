import type { ReactNode } from 'react';
import { useAction } from '../hooks.js';
import { Button } from './Button.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';

export interface ConfirmDialogProps {
  title: ReactNode;
  children: ReactNode;
  /** The confirm button's words: say what happens ("Revoke token"), not "OK". */
  confirmLabel: string;
  /** Red confirm button, for what cannot be undone. */
  danger?: boolean;
  /** Does the thing; the dialog stays open with the error if it rejects. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/**
 * Asks before an action with consequences. The focus starts on Cancel, so an unintended Enter does
 * nothing harmful; the confirm button shows progress and the dialog cannot be dismissed meanwhile.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = false,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const { busy, error, run } = useAction();
  return (
    <Dialog
      title={title}
      onClose={onClose}
      size="sm"
      dismissable={!busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy} data-autofocus>
            Cancel
          </Button>
          <Button variant={danger ? 'danger' : 'primary'} loading={busy} onClick={() => void run(onConfirm)}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {error !== null && <ErrorBanner error={error} title="That did not work" />}
      <div className="dialog-text">{children}</div>
    </Dialog>
  );
}
