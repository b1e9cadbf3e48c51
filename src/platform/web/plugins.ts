import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { securityHeaders } from './security-headers.js';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicDir, templatesDir } from '../paths.js';
import { AppError } from '../errors.js';
import { csrfBinding } from './auth.js';
import { cookieName, cookieOptions } from './cookies.js';
import { apiErrorHandler, sendProblem, toAppError } from './problems.js';
import { renderPage, safeNext } from './pages.js';

/** Headers, cookies, CSRF, templates, static files and OpenAPI: the machinery every page and route shares. */
export async function registerWebPlatform(app: FastifyInstance): Promise<void> {
  const { config, secrets } = app.verity;

  const headers = securityHeaders({
    // Strict CSP: no inline script anywhere; pages work without JavaScript.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: config.production ? [] : null,
      },
    },
    hsts: config.production,
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  await app.register(fastifyCookie, { secret: secrets.cookieSecret });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: cookieName('csrf', config.production),
    cookieOpts: cookieOptions(config.production, { signed: true }),
    // Each token is bound to the session (see csrfBinding); pages pass the same binding.
    getUserInfo: csrfBinding,
    csrfOpts: { userInfo: true, hmacKey: secrets.csrfKey },
  });
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: join(templatesDir, 'pages'), cache: config.production }) },
    templates: join(templatesDir, 'pages'),
    layout: './layout.eta',
  });
  await app.register(fastifyStatic, { root: publicDir, prefix: '/static/', maxAge: '1h' });
  // Browsers ask for /favicon.ico where a page names no icon (a JSON answer, /openapi.json).
  app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) => reply.sendFile('favicon.ico', { maxAge: '1d' }));

  await app.register(fastifySwagger, {
    // The document describes the JSON API; the HTML pages are not part of it.
    transform: ({ schema, url }) => (url.startsWith('/v1/') ? { schema, url } : { schema: { ...schema, hide: true }, url }),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Verity API',
        version: '1.0.0',
        description: 'Account security and recovery for a freelance marketplace. Errors are RFC 9457 problem documents.',
      },
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer', description: 'A member session token' },
          serviceKey: { type: 'http', scheme: 'bearer', description: 'A service key (gate routes)' },
        },
      },
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // The site's own CSP applies here too (no staticCSP: swagger-ui's would allow any https:
    // style and framing by the site). Under it, the standalone layout's top bar breaks: its
    // Swagger logo is an SVG with an inline <style>, refused with a console error. The base
    // layout has no top bar, and the page gets the site's title and icon.
    uiConfig: { layout: 'BaseLayout' },
    theme: {
      title: 'Verity API',
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: readFileSync(join(publicDir, 'favicon.svg')) }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Nothing personal is kept by a browser's or a proxy's cache: every API answer (tokens,
  // accounts, codes), and any answer to a request that carries credentials or that sets a
  // cookie. A route that sets its own Cache-Control (static files) keeps it.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control') && (wantsJson(request) || hasCredentials(request) || reply.hasHeader('set-cookie'))) {
      reply.header('Cache-Control', 'no-store');
    }
    return payload;
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (wantsJson(request)) return sendProblem(reply, new AppError('not_found', { detail: `No route ${request.method} ${request.url.split('?')[0]}.` }));
    return renderPage(request, reply, 'error', { title: 'Page not found', status: 404, detail: 'There is no page at this address.' }, 404);
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (wantsJson(request)) return apiErrorHandler(error, request, reply);
    return htmlError(error, request, reply);
  });
}

function hasCredentials(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined || request.cookies?.[cookieName('session', request.server.verity.config.production)] !== undefined;
}

/** API paths answer JSON; everything else is a page. */
function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/v1/') || request.url === '/v1' || request.url.startsWith('/openapi');
}

async function htmlError(error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const appError = toAppError(error);
  if (appError.status >= 500) request.log.error({ err: error }, 'page failed');
  if (appError.code === 'unauthenticated') {
    // Only a page can be returned to: after sign-in the browser GETs `next`, and a form's
    // POST-only address would answer 404.
    const back = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.redirect(`/login${back}`, 303);
  }
  if (appError.code === 'step_up_required') return reply.redirect(`/account/step-up?next=${encodeURIComponent(stepUpReturn(request))}`, 303);
  if (appError.retryAfter !== undefined) reply.header('Retry-After', String(appError.retryAfter));
  try {
    return await renderPage(request, reply, 'error', { title: appError.title, status: appError.status, detail: appError.detail }, appError.status);
  } catch {
    return reply.code(appError.status).type('text/plain').send(appError.detail);
  }
}

/**
 * The page to come back to after a step-up: a GET is that page; a form POST returns to the
 * page it was sent from (its same-site Referer), else to its own address when that is a page.
 */
function stepUpReturn(request: FastifyRequest): string {
  if (request.method === 'GET') return safeNext(request.url, '/account/security');
  const path = request.url.split('?')[0] ?? '';
  try {
    const referer = new URL(String(request.headers.referer ?? ''));
    if (referer.origin === new URL(`${request.protocol}://${request.host}`).origin) return safeNext(referer.pathname + referer.search, '/account/security');
  } catch {
    // No Referer (the site's policy is no-referrer) or a malformed one.
  }
  return request.server.hasRoute({ method: 'GET', url: path }) ? safeNext(path, '/account/security') : '/account/security';
}

export function newRequestId(): string {
  return randomUUID();
}
