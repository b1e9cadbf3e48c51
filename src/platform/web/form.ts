import type { FastifyRequest } from 'fastify';
import type { Static, TObject, TSchema } from 'typebox';
import { invalid } from '../errors.js';
import { fieldErrors, type AjvError } from './problems.js';
import { hostileStrings } from './strings.js';

/**
 * Page forms are checked against the API's own body schemas, with the app's Ajv, so every
 * limit is written once and a form refuses exactly what the API refuses.
 */

type Properties = Record<string, TSchema & { type?: unknown }>;

/**
 * The fields a schema names, read from a form body (strings, or arrays of strings for a
 * repeated name) into the shape the schema expects. Other fields (`_csrf`, `next`) are page
 * machinery and are left out. A list the form did not send is empty (no box ticked); any
 * other missing field stays missing.
 */
export function formInput(body: unknown, schema: TObject): Record<string, unknown> {
  const sent = (body ?? {}) as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties as Properties)) {
    const raw = Object.hasOwn(sent, name) ? sent[name] : undefined;
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v): v is string => typeof v === 'string');
    if (property.type === 'array') input[name] = values;
    else if (values[0] === undefined) continue;
    else if (property.type === 'boolean') input[name] = values[0] === 'true' ? true : values[0] === 'false' ? false : values[0];
    else input[name] = values[0];
  }
  return input;
}

/**
 * Checks input shaped for an API body against that body's schema. Throws 400 invalid_request
 * with one error per field, which the page shows beside the field (see handleForm).
 */
export function validateForm<T extends TObject>(request: FastifyRequest, schema: T, input: unknown): Static<T> {
  // The page may have built this input (a JSON text parsed, lines split): check it again.
  const hostile = hostileStrings(input);
  if (hostile.length) throw invalid(hostile);
  const validate = request.compileValidationSchema(schema);
  if (!validate(input)) throw invalid(fieldErrors((validate.errors ?? []) as AjvError[], 'body'));
  return input as Static<T>;
}

/**
 * A form body, validated against an API body schema. `given` replaces fields the page reads
 * its own way (a textarea of lines for a list; a blank meaning "not given"); an undefined
 * value there leaves the field out.
 */
export function parseForm<T extends TObject>(request: FastifyRequest, schema: T, given: Partial<Record<keyof Static<T>, unknown>> = {}): Static<T> {
  const input = formInput(request.body, schema);
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) delete input[name];
    else input[name] = value;
  }
  return validateForm(request, schema, input);
}
