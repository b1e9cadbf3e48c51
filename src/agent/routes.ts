import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { member, requireStaff } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { queueFilter } from './filter.js';
import {
  AccountHistorySchema,
  AssignBody,
  CaseParams,
  CaseSchema,
  CaseStatusBody,
  ConfirmResultSchema,
  LockResultSchema,
  NoteBody,
  NoteSchema,
  QueueItemSchema,
  QueueQuery,
  ReasonBody,
  TwoStepParams,
} from './schemas.js';
import type { AgentService } from './service.js';

/** /v1/agent/*: the support desk, for agents and admins; everyone else gets 403. */
export const agentRoutes: FastifyPluginAsyncTypebox<{ agent: AgentService }> = async (app, { agent }) => {
  // Checked on arrival, before the body is read or validated: a member learns nothing of these routes.
  const staff = { onRequest: requireStaff('agent') };
  const security = [{ session: [] }];
  const tags = ['agent'];
  const agentId = (request: Parameters<typeof member>[0]) => member(request).account.id;

  app.get('/agent/queue', {
    ...staff,
    schema: {
      tags,
      summary: 'The queue of cases (tickets, security resets, compromise reports, phone-number claims), oldest urgent first',
      description: 'Ordered by priority (urgent, high, normal), then oldest first. Without status, the open and pending cases; status=all for every status. assignee: me, none or an account id.',
      security,
      querystring: QueueQuery,
      response: { 200: Type.Array(QueueItemSchema), ...problems(400, 401, 403) },
    },
  }, async (request) => agent.queue(queueFilter(request.query, agentId(request))));

  app.get('/agent/cases/:id', {
    ...staff,
    schema: { tags, summary: 'One case with its internal notes (and, for a phone-number claim, the holding account)', security, params: CaseParams, response: { 200: CaseSchema, ...problems(401, 403, 404) } },
  }, async (request) => agent.caseDetail(request.params.id));

  app.put('/agent/cases/:id/assignee', {
    ...staff,
    schema: { tags, summary: "Assign a case: 'me', another agent's account id, or 'none' to unassign", security, params: CaseParams, body: AssignBody, response: { 200: CaseSchema, ...problems(400, 401, 403, 404) } },
  }, async (request) => agent.assign(request.params.id, request.body.assigneeId, agentId(request), requestMeta(request)));

  app.post('/agent/cases/:id/notes', {
    ...staff,
    schema: { tags, summary: 'Add an internal note (agents only; the member never sees it)', security, params: CaseParams, body: NoteBody, response: { 201: NoteSchema, ...problems(400, 401, 403, 404) } },
  }, async (request, reply) => reply.code(201).send(await agent.addNote(request.params.id, request.body.note, agentId(request), requestMeta(request))));

  app.patch('/agent/cases/:id', {
    ...staff,
    schema: {
      tags,
      summary: 'Change the status of a compromise or phone-number case',
      description: 'Tickets change status at PATCH /v1/agent/tickets/{id} and security resets by their decision (409 wrong_case_kind). A move the status table does not allow is 409 status_change_refused.',
      security,
      params: CaseParams,
      body: CaseStatusBody,
      response: { 200: CaseSchema, ...problems(400, 401, 403, 404, 409) },
    },
  }, async (request) => agent.setStatus(request.params.id, request.body.status, agentId(request), requestMeta(request)));

  app.post('/agent/cases/:id/release-number', {
    ...staff,
    schema: {
      tags,
      summary: 'Release a recycled number from a dormant holding account to the member who proved they hold the line',
      description: 'Only when the holder has not signed in for 180 days (409 holder_active otherwise); once (409 already_decided). The holder and the requester are told by e-mail; the case is solved.',
      security,
      params: CaseParams,
      response: { 200: CaseSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request) => agent.releaseNumber(request.params.id, agentId(request), requestMeta(request)));

  app.get('/agent/accounts/:id', {
    ...staff,
    schema: {
      tags,
      summary: 'An account with its security history: sign-ins, changes, sessions, age, two-step methods, earlier cases, open compromise reports',
      description: 'Never a password hash, secret, code or token. The look is recorded in the audit log with your id.',
      security,
      params: CaseParams,
      response: { 200: AccountHistorySchema, ...problems(401, 403, 404) },
    },
  }, async (request) => agent.accountHistory(request.params.id, agentId(request), requestMeta(request)));

  app.post('/agent/accounts/:id/lock', {
    ...staff,
    schema: {
      tags,
      summary: 'Lock an account (the lock of "this wasn\'t me"): every session ends and sign-in answers 423 until a password reset or an unlock',
      security,
      params: CaseParams,
      body: ReasonBody,
      response: { 200: LockResultSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request) => agent.lock(request.params.id, request.body.reason, agentId(request), requestMeta(request)));

  app.post('/agent/accounts/:id/two-step/:type/confirm', {
    ...staff,
    schema: {
      tags,
      summary: 'Confirm a two-step method suspended by a compromise lock, after checking with the member that it is theirs',
      description: 'The member is told by e-mail. 404 not_found when the method is not suspended.',
      security,
      params: TwoStepParams,
      body: ReasonBody,
      response: { 200: ConfirmResultSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request) => agent.confirmTwoStep(request.params.id, request.params.type, request.body.reason, agentId(request), requestMeta(request)));

  app.post('/agent/accounts/:id/unlock', {
    ...staff,
    schema: { tags, summary: 'End the lock of an account', security, params: CaseParams, body: ReasonBody, response: { 200: LockResultSchema, ...problems(400, 401, 403, 404) } },
  }, async (request) => agent.unlock(request.params.id, request.body.reason, agentId(request), requestMeta(request)));
};
