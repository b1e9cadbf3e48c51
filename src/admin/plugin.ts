import { domain } from '../platform/web/domain.js';
import { adminPages } from './pages.js';
import { adminRoutes } from './routes.js';

/** The first administrator, staff roles and service keys. */
export const adminPlugin = domain({ api: [adminRoutes], pages: [adminPages] });
