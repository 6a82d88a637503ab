import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { Badge } from './Badge.js';

export interface UserMenuProps {
  username: string;
  displayName: string;
  isAdmin: boolean;
  onLogOut: () => void;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0]![0]! + parts[parts.length - 1]![0]! : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}

/**
 * The account button in the top bar and its menu. Keyboard: Enter/Space/ArrowDown open it with
 * focus on the first item, Escape closes it and returns focus to the button, Tab leaves it.
 */
export function UserMenu({ username, displayName, isAdmin, onLogOut }: UserMenuProps) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const firstItemRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    firstItemRef.current?.focus();
    // Close when the pointer or focus goes anywhere else.
    const outside = (e: Event) => {
      if (rootRef.current && e.target instanceof Node && !rootRef.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    document.addEventListener('focusin', outside);
    return () => {
      document.removeEventListener('mousedown', outside);
      document.removeEventListener('focusin', outside);
    };
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
      buttonRef.current?.focus();
    } else if (e.key === 'ArrowDown' && !open) {
      e.preventDefault();
      setOpen(true);
    }
  };

  return (
    <div className="user-menu" ref={rootRef} onKeyDown={onKeyDown}>
      <button
        ref={buttonRef}
        type="button"
        className="user-menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="avatar" aria-hidden="true">
          {initials(displayName || username)}
        </span>
        <span className="user-menu-name">{username}</span>
        <span className="caret" aria-hidden="true" />
      </button>
      {open && (
        <div className="user-menu-popover" id={menuId} role="menu" aria-label="Account">
          <div className="user-menu-header" role="presentation">
            <div className="user-menu-display">{displayName || username}</div>
            <div className="user-menu-sub">
              Signed in as <strong>{username}</strong> {isAdmin && <Badge tone="info">admin</Badge>}
            </div>
          </div>
          <button
            ref={firstItemRef}
            type="button"
            role="menuitem"
            className="user-menu-item"
            onClick={() => {
              setOpen(false);
              onLogOut();
            }}
          >
            Log out
          </button>
        </div>
      )}
    </div>
  );
}
