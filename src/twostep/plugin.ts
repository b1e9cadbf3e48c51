import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { projectRoot } from '../platform/paths.js';
import { domain } from '../platform/web/domain.js';
import { twoStepPages } from './pages.js';
import { twoStepRoutes } from './routes.js';

/** Where pages load the WebAuthn browser library from: our own origin, so CSP `script-src 'self'` holds. */
export const WEBAUTHN_SCRIPT_PATH = '/static/vendor/simplewebauthn-browser.js';

/**
 * @simplewebauthn/browser's UMD bundle (it defines `window.SimpleWebAuthnBrowser`), read
 * once from the installed package so its version always matches @simplewebauthn/server's.
 */
const webauthnScript: FastifyPluginAsync = async (app) => {
  const bundle = readFileSync(join(projectRoot, 'node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js'));
  app.get(WEBAUTHN_SCRIPT_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(bundle),
  );
};

/** Two-step verification: the member's methods (/v1/me/two-step), the question list; its part of /account/security and the WebAuthn script for it. */
export const twoStepPlugin = domain({ api: [twoStepRoutes], pages: [webauthnScript, twoStepPages] });
