import type { ComponentPropsWithRef, ReactNode } from 'react';

function classes(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}

/** A text input styled by the tokens; pass the ids from `Field` to label it. */
export function Input({ className, ...rest }: ComponentPropsWithRef<'input'>) {
  return <input className={classes('input', className)} {...rest} />;
}

/** A native select (keyboard and screen-reader behaviour for free) styled like `Input`. */
export function Select({ className, children, ...rest }: ComponentPropsWithRef<'select'>) {
  return (
    <select className={classes('input select', className)} {...rest}>
      {children}
    </select>
  );
}

export function Textarea({ className, ...rest }: ComponentPropsWithRef<'textarea'>) {
  return <textarea className={classes('input textarea', className)} {...rest} />;
}

export interface CheckboxProps extends Omit<ComponentPropsWithRef<'input'>, 'type'> {
  label: ReactNode;
  hint?: ReactNode;
}

/** A checkbox with its label to the right; the whole label is the click target. */
export function Checkbox({ label, hint, className, ...rest }: CheckboxProps) {
  return (
    <label className={classes('checkbox', className)}>
      <input type="checkbox" {...rest} />
      <span>
        <span className="checkbox-label">{label}</span>
        {hint && <span className="checkbox-hint">{hint}</span>}
      </span>
    </label>
  );
}
