import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { navigate } from '../router.js';
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
 * focus on the first item, ArrowUp/ArrowDown move between items, Escape closes it and returns
 * focus to the button, Tab leaves it.
 */
export function UserMenu({ username, displayName, isAdmin, onLogOut }: UserMenuProps) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  const items = () => [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];

  useEffect(() => {
    if (!open) return;
    items()[0]?.focus();
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
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && open) {
      e.preventDefault();
      const all = items();
      const at = all.indexOf(document.activeElement as HTMLElement);
      const next = e.key === 'ArrowDown' ? (at + 1) % all.length : (at - 1 + all.length) % all.length;
      all[next]?.focus();
    }
  };

  const choose = (action: () => void) => () => {
    setOpen(false);
    action();
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
        <div className="user-menu-popover" id={menuId} role="menu" aria-label="Account" ref={menuRef}>
          <div className="user-menu-header" role="presentation">
            <div className="user-menu-display">{displayName || username}</div>
            <div className="user-menu-sub">
              Signed in as <strong>{username}</strong> {isAdmin && <Badge tone="info">admin</Badge>}
            </div>
          </div>
          <button type="button" role="menuitem" className="user-menu-item" onClick={choose(() => navigate('/tokens'))}>
            API tokens
          </button>
          <button type="button" role="menuitem" className="user-menu-item" onClick={choose(onLogOut)}>
            Log out
          </button>
        </div>
      )}
    </div>
  );
}
