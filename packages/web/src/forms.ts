// Form helpers shared by the pages: the server's name rules (checked here first so the user hears
// about a bad name before a round trip) and mapping a server validation error to its field.
import { HangarApiError } from '@hangar/sdk';

/** Project and team names (the server's Slug). */
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const SLUG_RULE = 'lower-case letters, digits and "-"; starts and ends with a letter or digit; at most 63';
export const USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const USERNAME_RULE = 'lower-case letters, digits, ".", "_" and "-"; starts with a letter or digit';

/**
 * The message of `err` when the server blamed input `field` (its details name `body.<field>` or
 * `<field>`); undefined otherwise, so the caller shows it as a general error instead.
 */
export function serverFieldError(err: unknown, field: string): string | undefined {
  if (!(err instanceof HangarApiError) || err.code !== 'invalid_input') return undefined;
  const blamed = err.details?.field;
  return blamed === field || blamed === `body.${field}` ? err.message : undefined;
}

/** Whether the server's validation error names one of `fields` (then the form shows it there). */
export function isFieldError(err: unknown, fields: readonly string[]): boolean {
  return fields.some((f) => serverFieldError(err, f) !== undefined);
}

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

/** True when no field has an error. */
export function valid<K extends string>(errors: FieldErrors<K>): boolean {
  return Object.values(errors).every((e) => !e);
}
