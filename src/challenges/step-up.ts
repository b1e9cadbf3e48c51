import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../platform/clock.js';
import type { AccountRow } from '../platform/db/schema.js';
import { AppError, isAppError } from '../platform/errors.js';
import { member, requireMember } from '../platform/web/auth.js';
import { requestMeta } from '../platform/web/request-meta.js';
import { problems } from '../platform/web/schemas.js';
import { NO_TWO_STEP_REASON } from './password.js';
import { ChallengeSchema } from './schemas.js';
import type { ChallengeService, ChallengeView } from './service.js';

export interface StepUpDeps {
  clock: Clock;
  challenges: ChallengeService;
  twoStep: { isEnabled(accountId: string): Promise<boolean> };
  accounts: { get(accountId: string): Promise<AccountRow> };
}

/**
 * Sensitive places ask again: a session stepped up in the last minutes passes; any other
 * gets 403 step_up_required with a challenge bound to that session. An account without 2SV
 * steps up with its password or an e-mail code.
 */
export class StepUp {
  constructor(private readonly deps: StepUpDeps) {}

  /**
   * A step-up challenge for the request's own session: with 2SV on, passed with the member's
   * methods. When 2SV is on but none of its methods can be used now (every backup code spent),
   * the session still passed 2SV when it began, so the password or an e-mail code lets the
   * member repair 2SV (make new codes) instead of locking them out of their own settings.
   */
  async challenge(request: FastifyRequest): Promise<ChallengeView> {
    const { session } = member(request);
    const account = await this.deps.accounts.get(member(request).account.id);
    const open = (reason: string) => this.deps.challenges.open({ purpose: 'step_up', account, reason, sessionId: session.id }, requestMeta(request));
    if (await this.deps.twoStep.isEnabled(account.id)) {
      try {
        return await open('step_up');
      } catch (error) {
        if (!isAppError(error) || error.code !== 'no_usable_method') throw error;
      }
    }
    return open(NO_TWO_STEP_REASON);
  }

  /** preHandler: a signed-in member whose session stepped up recently. */
  readonly require = async (request: FastifyRequest): Promise<void> => {
    await requireMember(request);
    await this.check(request);
  };

  /** preHandler factory: step-up only when `when` says the change is sensitive (a first phone is not). */
  requireIf(when: (request: FastifyRequest) => Promise<boolean>) {
    return async (request: FastifyRequest): Promise<void> => {
      await requireMember(request);
      if (await when(request)) await this.check(request);
    };
  }

  private async check(request: FastifyRequest): Promise<void> {
    const { session } = member(request);
    if (session.elevated_until && session.elevated_until > this.deps.clock.now()) return;
    throw new AppError('step_up_required', { extra: { challenge: await this.challenge(request) } });
  }
}

/** POST /v1/me/step-up: a challenge that, passed, elevates this session for 10 minutes. */
export const stepUpRoutes: FastifyPluginAsyncTypebox<{ stepUp: StepUp }> = async (app, { stepUp }) => {
  app.post('/me/step-up', {
    preHandler: requireMember,
    schema: {
      tags: ['challenges'],
      summary: 'Start a step-up: pass the challenge to unlock sensitive actions in this session for 10 minutes',
      security: [{ session: [] }],
      response: { 200: Type.Object({ challenge: ChallengeSchema }), ...problems(401) },
    },
  }, async (request) => ({ challenge: await stepUp.challenge(request) }));
};
