import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, invalid, isAppError, type FieldError } from '../errors.js';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** AJV's findings, as field errors a member (or a client developer) can act on. */
function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  const base = context && context !== 'body' ? `/${context}` : '';
  return validation.map((v) => {
    const path = base + (v.instancePath ?? '');
    const params = v.params ?? {};
    if (v.keyword === 'additionalProperties') {
      return { path: `${path}/${String(params.additionalProperty)}`, message: `Unknown field "${String(params.additionalProperty)}".` };
    }
    if (v.keyword === 'required') {
      return { path: `${path}/${String(params.missingProperty)}`, message: `"${String(params.missingProperty)}" is required.` };
    }
    return { path: path || '/', message: v.message ?? 'is not valid' };
  });
}

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
  }
  if (e instanceof SyntaxError && e.statusCode === 400) {
    return invalid([{ path: '/', message: 'The request body is not valid JSON.' }]);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 404) return new AppError('not_found');
    if (e.statusCode === 413) return new AppError('payload_too_large');
    if (e.statusCode === 415) return new AppError('unsupported_media_type');
    return new AppError('invalid_request', { detail: 'The request could not be read.' });
  }
  return new AppError('internal_error');
}

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
  return reply.code(error.status).type('application/problem+json').send(error.toProblem());
}

/** The API's error handler: every failure is an RFC 9457 problem document, never a stack or SQL. */
export function apiErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const appError = toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, appError);
}
