import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid, isAppError, type FieldError } from '../errors.js';

export interface AjvError {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  /** The value that failed (the app's Ajv runs verbose), to tell an empty field from a short one. */
  data?: unknown;
}

const article: Record<string, string> = { string: 'a string', boolean: 'true or false', integer: 'an integer', number: 'a number', array: 'a list', object: 'an object', null: 'null' };

/** One finding in words a member (or a client developer) can act on; never the value itself. */
function sentence(v: AjvError, choices: string[]): string {
  const params = v.params ?? {};
  const limit = Number(params.limit);
  const empty = v.data === '' || (Array.isArray(v.data) && v.data.length === 0);
  switch (v.keyword) {
    case 'maxLength':
      return `Use at most ${limit} characters.`;
    case 'minLength':
      return empty ? 'This field is required.' : `Use at least ${limit} characters.`;
    case 'maxItems':
      return `Give at most ${limit}.`;
    case 'minItems':
      return empty ? 'Choose at least one.' : `Give at least ${limit}.`;
    case 'anyOf':
      return choices.length ? `Choose one of: ${choices.join(', ')}.` : 'Is not one of the accepted forms.';
    case 'const':
      return `Must be ${JSON.stringify(params.allowedValue)}.`;
    case 'type':
      return `Must be ${article[String(params.type)] ?? String(params.type)}.`;
    default:
      return v.message ?? 'is not valid';
  }
}

/**
 * AJV's findings as field errors, one sentence each. The branches of a union (a role that is
 * none of the literals) are folded into the union's own error, which lists the choices.
 */
export function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  const base = context && context !== 'body' ? `/${context}` : '';
  const unions = validation.filter((v) => v.keyword === 'anyOf').map((v) => `${v.schemaPath ?? ''}/`);
  const insideUnion = (v: AjvError) => unions.some((u) => v.schemaPath?.startsWith(u));
  return validation.filter((v) => !insideUnion(v)).map((v) => {
    const path = base + (v.instancePath ?? '');
    const params = v.params ?? {};
    if (v.keyword === 'additionalProperties') {
      return { path: `${path}/${String(params.additionalProperty)}`, message: `Unknown field "${String(params.additionalProperty)}".` };
    }
    if (v.keyword === 'required') {
      return { path: `${path}/${String(params.missingProperty)}`, message: `"${String(params.missingProperty)}" is required.` };
    }
    const prefix = `${v.schemaPath ?? ''}/`;
    const choices = validation
      .filter((c) => c.keyword === 'const' && c.schemaPath?.startsWith(prefix))
      .map((c) => String(c.params?.allowedValue));
    return { path: path || '/', message: sentence(v, [...new Set(choices)]) };
  });
}

/** Node's words for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server going away or refusing connections: admin/crash shutdown, starting up, too many clients. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres says these in words only (no code). */
const CONNECTION_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /not queryable/, /^Client was closed/];

/**
 * The database (or another backing service) is unreachable, not the request at fault: the
 * server is stopped, restarting or refusing connections. Looks through `cause` and the
 * errors of an AggregateError (a refused dual-stack connect).
 */
export function isUnavailable(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && CONNECTION_MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isUnavailable(inner, depth + 1))) return true;
  return isUnavailable(e.cause, depth + 1);
}

/** What a client is told to wait before trying again while the database is away. */
export const UNAVAILABLE_RETRY_SECONDS = 5;

/** Turns anything thrown into an AppError; unknown errors become a bare 500. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(e.validation)) return invalid(fieldErrors(e.validation, e.validationContext));
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalid([{ path: '/', message: 'The body length does not match the Content-Length header.' }]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalid([{ path: '/', message: 'The request body is empty; send a JSON object.' }]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalid([{ path: '/', message: 'The request body is not valid JSON.' }]);
    case 'FST_CSRF_INVALID_TOKEN':
    case 'FST_CSRF_MISSING_SECRET':
      return new AppError('csrf_invalid');
    case 'FST_ERR_RATE_LIMIT':
      return new AppError('rate_limited');
    // The router's own refusals quote the whole URL; these say what is wrong without it.
    case 'FST_ERR_BAD_URL':
      return invalid([{ path: '/', message: 'The address has a broken percent-escape (%) in it.' }], 'This address is not valid.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('uri_too_long');
  }
  if (e instanceof SyntaxError && e.statusCode === 400) {
    return invalid([{ path: '/', message: 'The request body is not valid JSON.' }]);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 404) return new AppError('not_found');
    if (e.statusCode === 413) return new AppError('payload_too_large');
    if (e.statusCode === 415) return new AppError('unsupported_media_type');
    if (e.statusCode === 414) return new AppError('uri_too_long');
    // Fastify's message may quote the request; only our own sentence goes out.
    return invalid([{ path: '/', message: 'The request could not be read.' }], 'The request could not be read.');
  }
  // A stopped or restarting database is a 503 the client may retry, not our 500.
  if (isUnavailable(error)) return new AppError('service_unavailable', { retryAfter: UNAVAILABLE_RETRY_SECONDS });
  return new AppError('internal_error');
}

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
  return reply.code(error.status).type('application/problem+json').send(error.toProblem());
}

/** The API's error handler: every failure is an RFC 9457 problem document, never a stack or SQL. */
export function apiErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = toAppError(error);
  if (appError.code === 'service_unavailable') request.log.warn({ err: error }, 'request refused: a backing service is unreachable');
  else if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, appError);
}

