export interface SpinnerProps {
  size?: 'sm' | 'md' | 'lg';
  /** Read by screen readers; pass '' when the spinner sits in something that already says it. */
  label?: string;
}

/** A progress indicator; with a label it is a polite live region ("Loading jobs…"). */
export function Spinner({ size = 'md', label = 'Loading…' }: SpinnerProps) {
  return (
    <span
      className={`spinner spinner-${size}`}
      role={label ? 'status' : undefined}
      aria-hidden={label ? undefined : true}
    >
      {label && <span className="visually-hidden">{label}</span>}
    </span>
  );
}

/** A spinner centred in the space of a page or card that is still loading. */
export function LoadingBlock({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-block">
      <Spinner size="md" label="" />
      <span>{label}</span>
    </div>
  );
}
