import { domain } from '../platform/web/domain.js';
import { emailChangePages } from './email-change-pages.js';
import { emailChangeRoutes } from './email-change-routes.js';
import { accountPages } from './pages.js';
import { accountRoutes } from './routes.js';

/** Sign-up, e-mail verification and change, the profile, closing the account. */
export const accountsPlugin = domain({ api: [accountRoutes, emailChangeRoutes], pages: [accountPages, emailChangePages] });
