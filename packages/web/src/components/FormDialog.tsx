import type { FormEvent, ReactNode } from 'react';
import { isFieldError } from '../forms.js';
import type { Action } from '../hooks.js';
import { Button } from './Button.js';
import { Dialog } from './Dialog.js';
import { ErrorBanner } from './ErrorBanner.js';

export interface FormDialogProps {
  title: ReactNode;
  /** The submit button's words: say what happens ("Create team"), not "OK". */
  submitLabel: string;
  /** Called on Enter in a field or the submit button; checks the fields, then `action.run`s. */
  onSubmit: () => void;
  onClose: () => void;
  /** The submit's progress and failure (`useAction`). */
  action: Pick<Action, 'busy' | 'error'>;
  /**
   * The inputs whose server validation errors the form shows at the field itself; any other
   * failure is shown in a banner above the fields with `errorTitle`.
   */
  fields: readonly string[];
  errorTitle: string;
  size?: 'sm' | 'md' | 'lg';
  'data-testid'?: string;
  /** The fields (and anything else the form shows). */
  children: ReactNode;
  /**
   * What the request created, when it must be shown before the dialog closes (a secret the server
   * shows only once): it replaces the form, with Done to close. It is the same dialog, not a new
   * one, so it does not flicker closed and open, and the focus stays where it was.
   */
  result?: DialogResult | null;
}

export interface DialogResult {
  title: ReactNode;
  content: ReactNode;
  'data-testid': string;
}

/**
 * A dialog that is one form: Cancel and a primary submit button, the server's error in a banner
 * unless a field shows it, and no dismissing while the request runs (the answer would be lost).
 */
export function FormDialog({
  title,
  submitLabel,
  onSubmit,
  onClose,
  action: { busy, error },
  fields,
  errorTitle,
  size,
  'data-testid': testId,
  children,
  result,
}: FormDialogProps) {
  if (result) {
    return (
      <Dialog
        title={result.title}
        onClose={onClose}
        size={size}
        data-testid={result['data-testid']}
        footer={
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        }
      >
        {result.content}
      </Dialog>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <Dialog
      title={title}
      onClose={onClose}
      onSubmit={submit}
      dismissable={!busy}
      size={size}
      data-testid={testId}
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
      {error !== null && !isFieldError(error, fields) && <ErrorBanner error={error} title={errorTitle} />}
      {children}
    </Dialog>
  );
}
