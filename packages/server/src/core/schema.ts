import { Type, type TLiteral, type TNull, type TSchema, type TUnion } from '@sinclair/typebox';

/** A string-enum schema whose static type is the union of the given literals. */
export function literalUnion<const T extends readonly [string, ...string[]]>(
  values: T,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{
    -readonly [K in keyof T]: TLiteral<T[K]>;
  }>;
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * `T` or null. A plain scalar becomes a type array (`type: ['string', 'null']`) rather than `anyOf`:
 * the response serializer (fast-json-stringify) picks an `anyOf` branch by running a validator per
 * branch on every value, where a type array costs a `typeof`. @fastify/swagger writes both forms as
 * the same OpenAPI 3.0 `nullable: true`, so the spec and the SDK do not change. Other schemas (objects,
 * references, enums) keep `anyOf`. The result is an `Unsafe` TypeBox schema, so a `Value.Check` on it
 * fails loudly instead of misreading it; Fastify's validator and serializer read it as JSON Schema.
 */
export function Nullable<T extends TSchema>(t: T): TUnion<[T, TNull]> {
  const type: unknown = t.type;
  const scalar =
    typeof type === 'string' &&
    SCALAR_TYPES.has(type) &&
    t.anyOf === undefined &&
    t.enum === undefined &&
    t.const === undefined;
  if (!scalar) return Type.Union([t, Type.Null()]);
  // Rebuilt from the string keys only: a copied [Kind] would tell TypeBox this is still a plain scalar.
  const keywords = Object.fromEntries(Object.entries(t));
  return Type.Unsafe({ ...keywords, type: [type, 'null'] }) as unknown as TUnion<[T, TNull]>;
}
