import { Type, type TLiteral, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';

/** A string-enum schema whose static type is the union of the given literals. */
export function literalUnion<const T extends readonly [string, ...string[]]>(
  values: T,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{
    -readonly [K in keyof T]: TLiteral<T[K]>;
  }>;
}

/** `T` or null. */
export function Nullable<T extends TSchema>(t: T): TUnion<[T, TNull]> {
  return Type.Union([t, Type.Null()]);
}
