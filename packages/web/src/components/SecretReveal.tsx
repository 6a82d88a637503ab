import type { ReactNode } from 'react';
import { Banner } from './Banner.js';
import { CopyButton } from './CopyButton.js';

export interface SecretRevealProps {
  /** What the secret is, e.g. "API token" or "Password for alice". */
  label: string;
  value: string;
  /** Why it is shown only now; defaults to the usual warning. */
  warning?: ReactNode;
}

/**
 * A secret the server shows once (a new API token, a generated password): the value in a
 * selectable field with a copy button, under a warning that it cannot be shown again.
 */
export function SecretReveal({ label, value, warning }: SecretRevealProps) {
  return (
    <div className="secret-reveal">
      <Banner tone="warning" title="Copy it now" role="alert">
        <p>{warning ?? 'This is the only time it is shown. Store it somewhere safe; Hangar keeps only a hash.'}</p>
      </Banner>
      <div className="secret-row">
        <input
          className="input secret-value"
          readOnly
          value={value}
          aria-label={label}
          data-testid="secret-value"
          spellCheck={false}
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton value={value} />
      </div>
    </div>
  );
}
