import fc from 'fast-check';
import type { TestApp } from '../helpers/app.js';
import { encodeForm, type Visitor } from '../pages/form.js';
import { CONTENT_TYPES, deepJson, HEADER_NAMES, headerValue, hostileString, hostileValue, objectText, protoKey, RAW_JSON_NUMBERS, urlPiece } from './inputs.js';

/** One route to fuzz: an API operation (OpenAPI or route table) or a page form. */
export interface Operation {
  method: string;
  /** Fastify's form of the path: `/v1/sessions/:id`. */
  path: string;
  api: boolean;
  params: string[];
  /** Field names the body takes (the schema's, or the form's inputs). */
  fields: Array<{ name: string; sample: unknown }>;
  query: string[];
}

export interface FuzzRequest {
  op: string;
  api: boolean;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  ip: string;
}

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema;
  minLength?: number;
  format?: string;
}
type OpenApi = { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: Array<{ in: string; name: string }> }>> };

/** Plausible values by field name, where the schema alone says little (a password, a phone). */
const BY_NAME: Record<string, unknown> = {
  email: 'fuzz.someone@example.com', login: 'fuzz.someone@example.com', password: 'correct horse battery staple', newPassword: 'another fine horse staple 42',
  username: 'fuzzperson', fullName: 'Fuzz Person', country: 'PH', roles: ['freelancer'], phone: '+639171234567', code: '123456', name: 'fuzz',
  subject: 'A subject', message: 'A message long enough to be one.', category: 'other', role: 'agent', answer: 'an answer of mine', question: 'Your first pet?',
};

/** A value the schema would take, so that a case can get past the fields it does not attack. */
function sample(schema: Schema | undefined, name = ''): unknown {
  if (name in BY_NAME && (!schema?.enum || schema.enum.includes(BY_NAME[name]))) return BY_NAME[name];
  if (!schema) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) return sample(schema.anyOf[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (type === 'array') return [sample(schema.items)];
  if (type === 'object') return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]));
  if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
  if (schema.format === 'email') return 'someone@example.com';
  return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
}

const FORM_FIELDS = ['login', 'password', 'newPassword', 'email', 'username', 'fullName', 'country', 'name', 'token', 'role', 'code', 'phone', 'message', 'subject', 'category', 'feed', 'answer', 'question'];

/** Every operation of the OpenAPI document, every other /v1 route and every page form (POST). */
export async function operations(t: TestApp, routes: Array<readonly [string, string]>, admin: Visitor): Promise<Operation[]> {
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApi;
  const ops = new Map<string, Operation>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      const schema = spec.requestBody?.content?.['application/json']?.schema ?? Object.values(spec.requestBody?.content ?? {})[0]?.schema;
      const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
      ops.set(`${method.toUpperCase()} ${fastifyPath}`, {
        method: method.toUpperCase(),
        path: fastifyPath,
        api: true,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        fields: Object.entries(schema?.properties ?? {}).map(([name, s]) => ({ name, sample: sample(s, name) })),
        query: (spec.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      });
    }
  }
  for (const [method, path] of routes) {
    const key = `${method} ${path}`;
    const api = path.startsWith('/v1/');
    if (ops.has(key) || (!api && method !== 'POST') || path === '/openapi.json') continue;
    ops.set(key, { method, path, api, params: [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!), fields: api ? [] : await formFields(admin, path), query: [] });
  }
  return [...ops.values()];
}

/** The input names of the page a form posts from (its GET), else the common field names. */
async function formFields(visitor: Visitor, path: string): Promise<Operation['fields']> {
  const names = new Set<string>();
  if (!path.includes(':')) {
    const page = await visitor.get(path);
    for (const m of page.body.matchAll(/name="([^"]+)"/g)) if (m[1] !== '_csrf') names.add(m[1]!);
  }
  if (!names.size) FORM_FIELDS.forEach((n) => names.add(n));
  return [...names].map((name) => ({ name, sample: typeof BY_NAME[name] === 'string' ? BY_NAME[name] : 'x' }));
}

export interface Credentials {
  bearer?: string;
  cookie: string;
  csrf: string;
}

const paramValue = fc.oneof({ weight: 3, arbitrary: urlPiece }, { weight: 1, arbitrary: fc.constantFrom('00000000-0000-4000-8000-000000000000', 'agent', 'admin', 'x', '1') });

/**
 * A body: the operation's fields, each kept, left out or made hostile, plus stray keys; or
 * (half the time) every field plausible but one, so the case gets past validation of the rest.
 */
function fieldsBody(op: Operation): fc.Arbitrary<Array<[string, unknown]>> {
  const plausible = op.fields.map((f) => [f.name, f.sample] as [string, unknown]);
  const oneHostile = fc.tuple(fc.nat({ max: Math.max(0, op.fields.length - 1) }), fc.option(hostileValue, { freq: 6 })).map(([i, v]) =>
    plausible.flatMap(([k, s], j) => (j !== i ? [[k, s] as [string, unknown]] : v === null ? [] : [[k, v] as [string, unknown]])),
  );
  return fc.oneof(mixedBody(op), oneHostile);
}

function mixedBody(op: Operation) {
  const fields = fc.tuple(
    ...op.fields.map((f) => fc.oneof({ weight: 2, arbitrary: fc.constant({ keep: f.sample }) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: hostileValue.map((v) => ({ keep: v })) }).map((v) => [f.name, v] as const)),
  );
  const extra = fc.array(fc.tuple(fc.oneof(protoKey, hostileString), hostileValue), { maxLength: 2 });
  return fc.tuple(fields, extra).map(([fs, ex]) => [...fs.filter(([, v]) => v !== null).map(([k, v]) => [k, v!.keep] as [string, unknown]), ...ex]);
}

/** A body that is not the JSON object the route wants at all. */
const rawBody = fc.oneof(
  deepJson,
  fc.constantFrom('', '{', '{"a":', 'null', '"just a string"', '[]', '[{}]', '42', 'true', '\u0000', '{"a":1}garbage', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}', '\ufeff{}'),
  fc.constantFrom(...RAW_JSON_NUMBERS).map((n) => `{"n":${n},"count":${n}}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** The generator of one request against `op`, given who sends it. */
export function requestFor(op: Operation): fc.Arbitrary<(who: Credentials) => FuzzRequest> {
  const params = fc.tuple(...op.params.map(() => paramValue));
  const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...op.query, 'to', 'key', 'token', 'q', 'page', 'next', '__proto__', 'a[b]', 'x[]'), urlPiece), urlPiece), { maxLength: 3 });
  const body = fc.oneof({ weight: 5, arbitrary: fieldsBody(op).map((entries) => ({ entries })) }, { weight: 2, arbitrary: rawBody.map((raw) => ({ raw })) }, { weight: 1, arbitrary: fc.constant({}) });
  const contentType = fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  const headers = fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 3 });
  const credentials = fc.constantFrom('keep', 'keep', 'keep', 'keep', 'drop', 'bad-csrf');
  return fc.record({ params, query, body, contentType, headers, credentials, ip: fc.ipV4() }).map((c) => (who: Credentials) => {
    let i = 0;
    const path = op.path.replace(/:(\w+)/g, () => c.params[i++] ?? 'x');
    const qs = c.query.map(([k, v]) => `${k}=${v}`).join('&');
    const headers: Record<string, string> = {};
    if (c.credentials !== 'drop') {
      if (who.bearer && op.api) headers.authorization = `Bearer ${who.bearer}`;
      if (!op.api) headers.cookie = who.cookie;
    }
    const form = !op.api || op.path === '/v1/webhooks/sms/twilio';
    let payload: string | undefined;
    if (op.method !== 'GET' && op.method !== 'DELETE' ? !('entries' in c.body) || c.body.entries.length > 0 || 'raw' in c.body : 'raw' in c.body) {
      if ('raw' in c.body) payload = c.body.raw;
      else {
        const entries = 'entries' in c.body ? [...c.body.entries] : [];
        if (!op.api && c.credentials !== 'bad-csrf') entries.unshift(['_csrf', who.csrf]);
        if (c.credentials === 'bad-csrf' && !op.api) entries.unshift(['_csrf', 'forged']);
        payload = form ? encodeForm(Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? '']))) : objectText(entries);
      }
      headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
    }
    if (c.contentType) headers['content-type'] = c.contentType;
    for (const [name, value] of c.headers) headers[name] = value;
    return { op: `${op.method} ${op.path}`, api: op.api, method: op.method, url: qs ? `${path}?${qs}` : path, headers, payload, ip: c.ip };
  });
}
