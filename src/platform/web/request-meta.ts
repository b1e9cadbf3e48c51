import type { FastifyRequest } from 'fastify';
import type { RequestMeta } from '../audit.js';

export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  const meta: RequestMeta = { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
  const edge = request.headers[request.server.verity.config.countryHeader];
  const country = Array.isArray(edge) ? edge[0] : edge;
  if (country && /^[A-Za-z]{2}$/.test(country)) meta.country = country.toUpperCase();
  return meta;
}
