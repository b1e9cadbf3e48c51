import { domain } from '../platform/web/domain.js';
import { helpAdminPages } from './admin-pages.js';
import { helpPages } from './pages.js';
import { helpRoutes } from './routes.js';

/** The help center: articles, search and votes, and their editing by admins. */
export const helpPlugin = domain({ api: [helpRoutes], pages: [helpPages, helpAdminPages] });
