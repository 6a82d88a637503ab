import { Type } from '@sinclair/typebox';

/*
 * Names that appear in URLs, CLI arguments and audit entries are plain ASCII, so they can never
 * be confused with one another (no look-alike unicode, no case games, no path separators).
 * Display names and descriptions are free text (unicode welcome) but bounded and free of control
 * characters.
 */

export const USERNAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$';
/** No C0/C1 control characters, no bidi overrides that could disguise a name in the portal. */
export const TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$';
/** Like {@link TEXT_PATTERN} but multi-line: tabs and line breaks are allowed. */
export const TEXT_BLOCK_PATTERN =
  '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$';

export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: 'lower-case letters, digits, ".", "_" and "-"; starts with a letter or digit; at most 64',
});
export const Slug = Type.String({
  pattern: SLUG_PATTERN,
  description: 'lower-case letters, digits and "-"; starts and ends with a letter or digit; at most 63',
});
export const DisplayName = Type.String({ minLength: 1, maxLength: 200, pattern: TEXT_PATTERN });
export const Description = Type.String({ maxLength: 2000, pattern: TEXT_BLOCK_PATTERN });
export const Email = Type.String({
  maxLength: 254,
  pattern: '^[^\\s@\\u0000-\\u001f\\u007f-\\u009f]+@[^\\s@\\u0000-\\u001f\\u007f-\\u009f]+$',
});
