import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { AppError } from '../errors.js';
import { refuseCrossSiteCookieWrites } from './auth.js';

export const BODY_LIMIT = 1024 * 1024;

/* eslint-disable @typescript-eslint/no-explicit-any -- a part may be typed with any type provider */
type Part<O> = (app: any, options: O) => Promise<void>;

export interface DomainParts<O> {
  /** JSON routes, mounted under /v1. */
  api?: Part<O>[];
  /** HTML pages and their form posts. */
  pages?: Part<O>[];
}

/**
 * One plugin for one domain: its JSON routes under /v1 and its pages, each in the scope the
 * platform gives that kind of route. The options are the domain's dependencies, handed to
 * every part, so app.ts lists each domain once.
 */
export function domain<O extends object = Record<never, never>>(parts: DomainParts<O>): FastifyPluginAsync<O> {
  return async (app, options) => {
    if (parts.api?.length) {
      await app.register(async (api) => {
        jsonOnly(api);
        for (const part of parts.api ?? []) await api.register(part, options);
      }, { prefix: '/v1' });
    }
    if (parts.pages?.length) {
      await app.register(async (web) => {
        await web.register(formbody, { bodyLimit: BODY_LIMIT });
        for (const part of parts.pages ?? []) await web.register(part, options);
      });
    }
  };
}

/** The JSON API: JSON bodies only, so a cross-site HTML form can never reach it. */
function jsonOnly(api: FastifyInstance): void {
  // Fastify also parses text/plain by default, a type any cross-site form may send.
  api.removeContentTypeParser('text/plain');
  // The session cookie authenticates only writes that come from the site's own pages.
  api.addHook('onRequest', refuseCrossSiteCookieWrites);
  // A route without a body schema takes no body: fields sent to it are unknown fields.
  api.addHook('preValidation', async (request) => {
    const body: unknown = request.body;
    if (request.routeOptions.schema?.body || body === undefined || body === null) return;
    if (typeof body === 'object' && Object.keys(body).length === 0) return;
    throw new AppError('invalid_request', {
      detail: 'This request takes no body.',
      extra: { errors: [{ path: '/', message: 'must be empty' }] },
    });
  });
}
