import { domain } from '../platform/web/domain.js';
import { accountPages } from './pages.js';
import { accountRoutes } from './routes.js';

/** Sign-up, e-mail verification, the profile, closing the account. */
export const accountsPlugin = domain({ api: [accountRoutes], pages: [accountPages] });
