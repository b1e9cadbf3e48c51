import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { member, requireStaff } from '../platform/web/auth.js';
import { parseForm, validateForm } from '../platform/web/form.js';
import { field, formErrors, renderPage } from '../platform/web/pages.js';
import { toAppError } from '../platform/web/problems.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { queueFilter } from './filter.js';
import { AssignBody, CaseStatusBody, FILTER_CHOICES, NoteBody, QueueQuery, ReasonBody } from './schemas.js';
import { CASE_PAGES, type AgentService } from './service.js';
import { words } from './words.js';
import { Value } from 'typebox/value';
import { AppError } from '../platform/errors.js';
import { TypeSchema } from '../twostep/schemas.js';

const caseDone: Record<string, string> = {
  assigned: 'Assignment saved.',
  noted: 'Note added.',
  status: 'Status changed.',
  released: 'The number was released. Its holder and the requester have been told by e-mail.',
};
const accountDone: Record<string, string> = {
  locked: 'The account is locked: every session has ended and sign-in is refused.',
  unlocked: 'The account is unlocked.',
  confirmed: 'The two-step method is confirmed and usable again. The member was told by e-mail.',
};

/** /agent: the queue, case pages and account pages, as forms that work without JavaScript. */
export const agentPages: FastifyPluginAsync<{ agent: AgentService }> = async (app, { agent }) => {
  // Checked on arrival, before the body is read or validated: a member learns nothing of these routes.
  const staff = { onRequest: requireStaff('agent') };
  const staffPost = { preValidation: app.csrfProtection, ...staff };
  const agentId = (request: FastifyRequest) => member(request).account.id;
  const done = (request: FastifyRequest, messages: Record<string, string>) => {
    const key = (request.query as { done?: unknown }).done;
    return typeof key === 'string' ? messages[key] : undefined;
  };

  app.get('/agent', staff, async (request, reply) => {
    const raw = request.query as Record<string, unknown>;
    const values = { kind: str(raw.kind), status: str(raw.status), priority: str(raw.priority), assignee: str(raw.assignee) };
    try {
      const query = validateForm(request, QueueQuery, Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '')));
      const items = await agent.queue(queueFilter(query, agentId(request)));
      return renderPage(request, reply, 'agent', { title: 'Support desk', items, values, choices: FILTER_CHOICES, agents: await agent.agents(), words, pages: CASE_PAGES });
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) throw error;
      return renderPage(request, reply, 'agent', { title: 'Support desk', items: [], values, choices: FILTER_CHOICES, agents: await agent.agents(), words, pages: CASE_PAGES, ...formErrors(appError) }, appError.status);
    }
  });

  async function showCase(request: FastifyRequest, reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const found = await agent.caseDetail(id);
    return renderPage(request, reply, 'agent-case', { title: `${words.kinds[found.kind]} case`, item: found, agents: await agent.agents(), me: agentId(request), words, flash: done(request, caseDone), ...extra }, status);
  }

  /** A case form: on success 303 back to the case; a refusal re-renders the case, the input kept. */
  async function caseForm(request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, action: (id: string) => Promise<string>) {
    const { id } = request.params as { id: string };
    try {
      const key = await action(id);
      return reply.redirect(`/agent/cases/${encodeURIComponent(id)}?done=${key}`, 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500 || appError.code === 'not_found') throw error;
      return showCase(request, reply, id, { values, ...formErrors(appError, { wrong_case_kind: 'status', status_change_refused: 'status', holder_active: 'release', already_decided: 'release' }) }, appError.status);
    }
  }

  app.get('/agent/cases/:id', staff, async (request, reply) => showCase(request, reply, (request.params as { id: string }).id));

  app.post('/agent/cases/:id/assignee', staffPost, async (request, reply) =>
    caseForm(request, reply, { assigneeId: field(request.body, 'assigneeId') }, async (id) => {
      await agent.assign(id, parseForm(request, AssignBody).assigneeId, agentId(request), requestMeta(request));
      return 'assigned';
    }),
  );

  app.post('/agent/cases/:id/notes', staffPost, async (request, reply) =>
    caseForm(request, reply, { note: field(request.body, 'note') }, async (id) => {
      await agent.addNote(id, parseForm(request, NoteBody).note, agentId(request), requestMeta(request));
      return 'noted';
    }),
  );

  app.post('/agent/cases/:id/status', staffPost, async (request, reply) =>
    caseForm(request, reply, { status: field(request.body, 'status') }, async (id) => {
      await agent.setStatus(id, parseForm(request, CaseStatusBody).status, agentId(request), requestMeta(request));
      return 'status';
    }),
  );

  app.post('/agent/cases/:id/release-number', staffPost, async (request, reply) =>
    caseForm(request, reply, {}, async (id) => {
      await agent.releaseNumber(id, agentId(request), requestMeta(request));
      return 'released';
    }),
  );

  async function showAccount(request: FastifyRequest, reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200) {
    const history = await agent.accountHistory(id, agentId(request), requestMeta(request));
    return renderPage(request, reply, 'agent-account', { title: `Account ${history.account.username}`, history, words, flash: done(request, accountDone), ...extra }, status);
  }

  app.get('/agent/accounts/:id', staff, async (request, reply) => showAccount(request, reply, (request.params as { id: string }).id));

  app.post('/agent/accounts/:id/two-step/:type/confirm', staffPost, async (request, reply) => {
    const { id, type } = request.params as { id: string; type: string };
    try {
      if (!Value.Check(TypeSchema, type)) throw new AppError('not_found');
      const { reason } = parseForm(request, ReasonBody);
      await agent.confirmTwoStep(id, type, reason, agentId(request), requestMeta(request));
      return reply.redirect(`/agent/accounts/${encodeURIComponent(id)}?done=confirmed`, 303);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500 || appError.code === 'not_found') throw error;
      return showAccount(request, reply, id, formErrors(appError), appError.status);
    }
  });

  for (const [action, key] of [['lock', 'locked'], ['unlock', 'unlocked']] as const) {
    app.post(`/agent/accounts/:id/${action}`, staffPost, async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        const { reason } = parseForm(request, ReasonBody);
        await agent[action](id, reason, agentId(request), requestMeta(request));
        return reply.redirect(`/agent/accounts/${encodeURIComponent(id)}?done=${key}`, 303);
      } catch (error) {
        const appError = toAppError(error);
        if (appError.status >= 500 || appError.code === 'not_found') throw error;
        return showAccount(request, reply, id, { values: { reason: field(request.body, 'reason') }, ...formErrors(appError) }, appError.status);
      }
    });
  }
};

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
