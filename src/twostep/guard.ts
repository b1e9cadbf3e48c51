import type { FastifyInstance, FastifyRequest } from 'fastify';
import { member } from '../platform/web/auth.js';

/**
 * Once 2SV is on, adding, changing or removing a method needs a step-up (API.md, "Two-step
 * verification settings"): otherwise a stolen session could swap the second step for one of
 * the thief's. The first method (2SV off) needs none beyond being signed in. One hook for the
 * scope, so no route or page of it can be added without the check: every write is guarded,
 * and so are the GET pages named here, where a change starts (step up before typing, not after).
 */
export function guardTwoStepChanges(app: FastifyInstance, pagesThatChange: readonly string[] = []): void {
  const { stepUp, twoStep } = app.verity;
  const guard = stepUp.requireIf((request) => twoStep.isEnabled(member(request).account.id));
  const guarded = (request: FastifyRequest) =>
    !['GET', 'HEAD', 'OPTIONS'].includes(request.method) || pagesThatChange.includes(request.routeOptions.url ?? '');
  app.addHook('preHandler', async (request) => {
    if (guarded(request)) await guard(request);
  });
}
