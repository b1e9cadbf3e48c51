import type { FastifyRequest } from 'fastify';
import { invalid, type FieldError } from '../errors.js';

/**
 * A NUL byte, or half of a surrogate pair. PostgreSQL refuses NUL in text and JSON, and a
 * lone surrogate is no character at all (UTF-8 cannot encode it): neither is ever typed by a
 * person, and either one reaching the database turned a request into a 500.
 */
const HOSTILE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** At most this many findings are listed; one is enough to refuse. */
const MAX_FINDINGS = 10;

function what(text: string): string {
  return text.includes('\0') ? 'a NUL character (\\u0000)' : 'half of a character (a lone UTF-16 surrogate)';
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every string (object keys included) in a parsed body, query or form that holds a NUL or a
 * lone surrogate, as field errors. Walks iteratively: a deeply nested JSON body cannot
 * overflow the stack.
 */
export function hostileStrings(value: unknown, base = ''): FieldError[] {
  const found: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[value, base]];
  while (stack.length && found.length < MAX_FINDINGS) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'string') {
      if (HOSTILE.test(current)) found.push({ path: path || '/', message: `Contains ${what(current)}, which is not allowed.` });
    } else if (ArrayBuffer.isView(current)) {
      continue; // raw bytes are no text
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${path}/${i}`]);
    } else if (current !== null && typeof current === 'object') {
      for (const key of Object.keys(current).reverse()) {
        // A bad name is not echoed: its path says where it is, not what it is.
        if (HOSTILE.test(key)) found.push({ path: `${path}/?`, message: `A field name contains ${what(key)}, which is not allowed.` });
        else stack.push([(current as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`]);
      }
    }
  }
  return found;
}

/**
 * preValidation, for every route (API and pages alike): refuses NUL bytes and lone
 * surrogates anywhere in the body, the query or the path parameters with 400
 * invalid_request, before any schema, permission check or service sees them.
 */
export async function refuseHostileStrings(request: FastifyRequest): Promise<void> {
  const found = [
    ...hostileStrings(request.body),
    ...hostileStrings(request.query, '/querystring'),
    ...hostileStrings(request.params, '/params'),
  ];
  if (found.length) throw invalid(found, 'Some text in this request holds a NUL character or a lone UTF-16 surrogate, which is not allowed.');
}
