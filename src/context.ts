import type { Logger } from 'pino';
import type { AccountService } from './accounts/service.js';
import type { ChallengeService } from './challenges/service.js';
import type { AdminService } from './admin/service.js';
import type { Config } from './platform/config.js';
import type { Clock } from './platform/clock.js';
import type { Random } from './platform/crypto.js';
import type { Db } from './platform/db/database.js';
import type { GateService } from './gate/service.js';
import type { Metrics } from './platform/metrics.js';
import type { Outbox } from './platform/messaging/outbox.js';
import type { PhoneService } from './phone/service.js';
import type { RateLimiter } from './platform/ratelimit.js';
import type { Secrets } from './platform/secrets.js';
import type { Notice, NoticeViewer } from './platform/web/notices.js';
import type { HelpService } from './help/service.js';
import type { SessionService } from './sessions/service.js';
import type { TwoStepService } from './twostep/service.js';
import type { Jobs } from './platform/jobs.js';
import type { RecoveryService } from './recovery/service.js';
import type { StepUp } from './challenges/step-up.js';
import type { SupportService } from './support/service.js';
import type { TicketService } from './support/tickets.js';
import type { ForgotAnswerService } from './forgot-answer/service.js';
import type { SecurityResetService } from './security-reset/service.js';

/** Everything a domain needs, built once in app.ts and handed to each domain plugin. */
export interface AppContext {
  config: Config;
  db: Db;
  clock: Clock;
  random: Random;
  secrets: Secrets;
  limiter: RateLimiter;
  outbox: Outbox;
  metrics: Metrics;
  log: Logger;
  accounts: AccountService;
  sessions: SessionService;
  challenges: ChallengeService;
  admin: AdminService;
  phone: PhoneService;
  twoStep: TwoStepService;
  gate: GateService;
  help: HelpService;
  jobs: Jobs;
  support: SupportService;
  /** Support tickets (contact support without signing in). */
  tickets: TicketService;
  recovery: RecoveryService;
  /** "Forgot your answer?" at a challenge: the e-mailed link to a new security question. */
  forgotAnswer: ForgotAnswerService;
  securityResets: SecurityResetService;
  /** Sensitive places ask again: preHandlers for a recent step-up of the session. */
  stepUp: StepUp;
  /** The notices a viewer should see on every page; the notices domain provides it. */
  notices: { forViewer(viewer: NoticeViewer): Promise<Notice[]> };
}

declare module 'fastify' {
  interface FastifyInstance {
    verity: AppContext;
  }
}
