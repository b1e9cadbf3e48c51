import { domain } from '../platform/web/domain.js';
import { emailCodeMethod } from './email.js';
import type { ChallengeMethod, MethodContext } from './methods.js';
import { challengePages } from './pages.js';
import { challengeRoutes } from './routes.js';
import { stepUpPages } from './step-up-pages.js';
import { stepUpRoutes, type StepUp } from './step-up.js';
import { ChallengeService, type ChallengeDeps, type SessionIssuer } from './service.js';

/** The challenge service with its methods: e-mail codes here; two-step verification adds more. */
export function createChallenges(deps: MethodContext & Pick<ChallengeDeps, 'afterSecondStepSignIn'> & { sessions: SessionIssuer; methods?: readonly ChallengeMethod[] }): ChallengeService {
  return new ChallengeService({ ...deps, methods: [emailCodeMethod, ...(deps.methods ?? [])] });
}

/** Second steps: sign-in with two-step verification or under attack, step-up, recovery. */
export const challengesPlugin = domain<{ challenges: ChallengeService; stepUp: StepUp }>({ api: [challengeRoutes, stepUpRoutes], pages: [challengePages, stepUpPages] });
