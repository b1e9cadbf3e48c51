import { describe, expect, it } from 'vitest';
import { toAppError, UNAVAILABLE_RETRY_SECONDS } from '../../src/platform/web/problems.js';

/**
 * Which failures are "the database is away" (503 service_unavailable with Retry-After, the
 * client may retry) and which stay our 500: the mapping postgres-down.test.ts relies on,
 * case by case, for the shapes node-postgres and Node give.
 */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('connection failures are 503 service_unavailable', () => {
  it.each([
    ['a refused connect', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a refused dual-stack connect', new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], 'connect failed')],
    ['a session ended by a server stop (57P01)', pgError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', pgError('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', pgError('08006', 'connection failure')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['one wrapped in a cause', new Error('query failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) })],
  ])('%s', (_name, error) => {
    const mapped = toAppError(error);
    expect([mapped.status, mapped.code, mapped.retryAfter]).toEqual([503, 'service_unavailable', UNAVAILABLE_RETRY_SECONDS]);
  });
});

describe('everything else is unchanged', () => {
  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')"), 500],
    ['a constraint violation', pgError('23505', 'duplicate key value violates unique constraint'), 500],
    ['a syntax error in SQL', pgError('42601', 'syntax error at or near "SELEC"'), 500],
    ['a client that hung up during its body (a 400 from Fastify)', Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 }), 400],
  ])('%s', (_name, error, status) => {
    expect(toAppError(error).status).toBe(status);
  });
});
