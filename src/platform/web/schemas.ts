import { Type, type TSchema } from 'typebox';

/** Shared schema pieces for routes and the OpenAPI document. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    retryAfter: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true, description: 'RFC 9457 problem document' },
);

/** Documents the problem responses a route may give (the error handler produces them). */
export function problems(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const status of statuses) out[status] = Problem;
  return out;
}

/** An object schema that refuses unknown fields. */
export function Strict<T extends Record<string, TSchema>>(properties: T, options: Record<string, unknown> = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

export const Uuid = Type.String({ pattern: '^[0-9a-fA-F-]{36}$' });
export const IsoTime = Type.String({ format: 'date-time' });
export const NoContent = Type.Null({ description: 'No content' });
