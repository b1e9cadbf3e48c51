import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../audit.js';
import { cookieName } from './cookies.js';

export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  const { config } = request.server.verity;
  const meta: RequestMeta = {
    ip: request.ip ?? null,
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
    deviceCookie: request.cookies?.[cookieName('device', config.production)] ?? null,
  };
  const edge = request.headers[config.countryHeader];
  const country = Array.isArray(edge) ? edge[0] : edge;
  if (country && /^[A-Za-z]{2}$/.test(country)) meta.country = country.toUpperCase();
  return meta;
}
