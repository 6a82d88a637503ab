import { useEffect, useId, useRef, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';

export interface DialogProps {
  title: ReactNode;
  /** Called for Escape and the close button; the owner unmounts the dialog to close it. */
  onClose: () => void;
  children: ReactNode;
  /** The action buttons, bottom right. With `onSubmit`, a `type="submit"` button here submits. */
  footer?: ReactNode;
  /** Makes body and footer one form: Enter in a field submits it. */
  onSubmit?: (e: FormEvent<HTMLFormElement>) => void;
  size?: 'sm' | 'md' | 'lg';
  /** False while a request runs, so Escape cannot hide an answer the user is waiting for. */
  dismissable?: boolean;
  'data-testid'?: string;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

/**
 * A modal dialog on the native `<dialog>` element (top layer, inert page behind it). Mount it to
 * open, unmount it to close. Focus moves to the first field (or `[data-autofocus]`), Tab and
 * Shift+Tab cycle inside it, Escape closes it, and focus returns to where it was on close.
 */
export function Dialog({
  title,
  onClose,
  children,
  footer,
  onSubmit,
  size = 'md',
  dismissable = true,
  'data-testid': testId,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const bodyRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  // The latest props for the native event handlers, which are attached once.
  const latest = useRef({ onClose, dismissable });
  useEffect(() => {
    latest.current = { onClose, dismissable };
  }, [onClose, dismissable]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    const body = bodyRef.current;
    const first =
      dialog.querySelector<HTMLElement>('[data-autofocus]') ??
      (body ? focusables(body).find((el) => el.matches('input, select, textarea')) : undefined) ??
      focusables(dialog).find((el) => !el.classList.contains('dialog-close')) ??
      dialog;
    first.focus();
    // Escape fires `cancel`; the owner decides (it unmounts us), the browser must not close alone.
    const onCancel = (e: Event) => {
      e.preventDefault();
      if (latest.current.dismissable) latest.current.onClose();
    };
    dialog.addEventListener('cancel', onCancel);
    return () => {
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key !== 'Tab' || !ref.current) return;
    const items = focusables(ref.current);
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && (document.activeElement === first || document.activeElement === ref.current)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  const content = (
    <>
      <div className="dialog-body" ref={bodyRef}>
        {children}
      </div>
      {footer && <div className="dialog-footer">{footer}</div>}
    </>
  );

  return (
    <dialog
      ref={ref}
      className={`dialog dialog-${size}`}
      aria-labelledby={titleId}
      aria-modal="true"
      onKeyDown={onKeyDown}
      data-testid={testId}
    >
      <header className="dialog-header">
        <h2 className="dialog-title" id={titleId}>
          {title}
        </h2>
        <button type="button" className="dialog-close" aria-label="Close" onClick={onClose} disabled={!dismissable}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      {onSubmit ? (
        <form className="dialog-form" onSubmit={onSubmit} noValidate>
          {content}
        </form>
      ) : (
        content
      )}
    </dialog>
  );
}
