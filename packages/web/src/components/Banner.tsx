import type { ReactNode } from 'react';

export type BannerTone = 'info' | 'success' | 'warning' | 'danger';

export interface BannerProps {
  tone?: BannerTone;
  title?: ReactNode;
  children?: ReactNode;
  /** Buttons on the right (Retry, Dismiss, Copy). */
  actions?: ReactNode;
  /**
   * `alert` interrupts screen readers (errors, one-time secrets); `status` waits politely
   * (results of an action). Defaults: alert for danger, status otherwise.
   */
  role?: 'alert' | 'status';
  'data-testid'?: string;
}

/** A message in a coloured box with a strong left edge; the tone is also said in words by the title. */
export function Banner({ tone = 'info', title, children, actions, role, 'data-testid': testId }: BannerProps) {
  return (
    <div
      className={`banner banner-${tone}`}
      role={role ?? (tone === 'danger' ? 'alert' : 'status')}
      data-testid={testId}
    >
      <div className="banner-text">
        {title && <p className="banner-title">{title}</p>}
        {children}
      </div>
      {actions && <div className="banner-actions">{actions}</div>}
    </div>
  );
}
