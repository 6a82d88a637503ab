import { HangarApiError } from '@hangar/sdk';
import type { ReactNode } from 'react';
import { Banner } from './Banner.js';
import { Button } from './Button.js';

export interface ErrorBannerProps {
  error: unknown;
  /** A short summary above the server's message, e.g. "Could not load jobs". */
  title?: ReactNode;
  onRetry?: () => void;
  onDismiss?: () => void;
}

/**
 * An error as the user can act on it: what went wrong in words, plus the server's error code and
 * request id to quote to an operator (they find the request in the server log by that id).
 */
export function ErrorBanner({ error, title, onRetry, onDismiss }: ErrorBannerProps) {
  const api = error instanceof HangarApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Banner
      tone="danger"
      role="alert"
      title={title}
      actions={
        (onRetry || onDismiss) && (
          <>
            {onRetry && (
              <Button size="sm" onClick={onRetry}>
                Retry
              </Button>
            )}
            {onDismiss && (
              <Button size="sm" variant="ghost" onClick={onDismiss} aria-label="Dismiss error">
                Dismiss
              </Button>
            )}
          </>
        )
      }
    >
      <p className="banner-message">{message}</p>
      {api && (
        <p className="banner-meta">
          <span>
            code <code data-testid="error-code">{api.code}</code>
          </span>
          {api.status > 0 && <span>HTTP {api.status}</span>}
          {api.requestId && (
            <span>
              request id <code data-testid="error-request-id">{api.requestId}</code>
            </span>
          )}
        </p>
      )}
    </Banner>
  );
}
