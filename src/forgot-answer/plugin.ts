import { domain } from '../platform/web/domain.js';
import { forgotAnswerPages } from './pages.js';
import { forgotAnswerRoutes } from './routes.js';
import type { ForgotAnswerService } from './service.js';

/** "Forgot your answer?": the e-mailed link to a new security question and answer. */
export const forgotAnswerPlugin = domain<{ forgotAnswer: ForgotAnswerService }>({ api: [forgotAnswerRoutes], pages: [forgotAnswerPages] });
