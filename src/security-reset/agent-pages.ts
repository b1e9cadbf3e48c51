import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireStaff } from '../platform/web/auth.js';
import { parseForm } from '../platform/web/form.js';
import { field, formErrors, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { exactUtc, timeAgo } from '../platform/time-words.js';
import { caseView } from './case-view.js';
import type { SecurityResetOptions } from './routes.js';
import { DecisionBody } from './schemas.js';

const done: Record<string, string> = {
  approve: 'Approved. The owner is told by e-mail and text; the reset takes effect after the waiting period.',
  deny: 'Denied. The requester is told by e-mail.',
  request_info: 'The requester is asked for more information by e-mail.',
};

/** /agent/security-resets/{id}: the case page, for staff (agents and admins) only. */
export const securityResetAgentPages: FastifyPluginAsync<SecurityResetOptions> = async (app, { securityResets, deps }) => {
  const agentOnly = { preHandler: requireStaff('agent') };

  async function show(request: FastifyRequest, reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const view = await caseView(deps, id);
    const now = deps.clock.now();
    const when = (iso: string | null) => (iso ? { words: timeAgo(new Date(iso), now), exact: exactUtc(new Date(iso)), iso } : null);
    // The queue belongs to the agents' desk; link back to it once it is there.
    const queue = request.server.hasRoute({ method: 'GET', url: '/agent' });
    return renderPage(request, reply, 'agent-security-reset', { title: `Security reset for ${view.request.login}`, view, when, queue, values: {}, ...extra }, status);
  }

  app.get('/agent/security-resets/:id', agentOnly, async (request, reply) => {
    const { id } = request.params as { id: string };
    const query = request.query as { done?: unknown };
    return show(request, reply, id, { flash: typeof query.done === 'string' ? done[query.done] : undefined });
  });

  app.post('/agent/security-resets/:id/decision', { ...agentOnly, preValidation: app.csrfProtection }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const values = { decision: field(request.body, 'decision'), note: field(request.body, 'note') };
    try {
      const input = parseForm(request, DecisionBody);
      await securityResets.decide(id, member(request).account.id, input, requestMeta(request));
      return reply.redirect(`/agent/security-resets/${id}?done=${input.decision}`, 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500 || appError.code === 'not_found') throw error;
      return show(request, reply, id, { values, ...formErrors(appError, { reset_no_account: 'decision' }) }, appError.status);
    }
  });
};
