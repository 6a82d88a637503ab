import type { ReactNode } from 'react';

export interface CardProps {
  title?: ReactNode;
  /** Buttons or links on the right of the header. */
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  /** Drops the body padding for content that brings its own (tables, logs). */
  flush?: boolean;
}

/** A titled surface; sections of a page are cards. */
export function Card({ title, actions, children, className, flush = false }: CardProps) {
  return (
    <section className={['card', className].filter(Boolean).join(' ')}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2 className="card-title">{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      <div className={flush ? 'card-body card-body-flush' : 'card-body'}>{children}</div>
    </section>
  );
}
