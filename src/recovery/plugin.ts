import { domain } from '../platform/web/domain.js';
import { recoveryChallengePages } from './challenge-pages.js';
import { recoveryPages } from './pages.js';
import { recoveryRoutes } from './routes.js';
import type { RecoveryService } from './service.js';

/** Forgot password, "this wasn't me" and compromise reports. */
export const recoveryPlugin = domain<{ recovery: RecoveryService }>({ api: [recoveryRoutes], pages: [recoveryPages, recoveryChallengePages] });
