import { domain } from '../platform/web/domain.js';
import { sessionPages } from './pages.js';
import { sessionRoutes } from './routes.js';

/** Sign-in, sign-out and the member's devices. */
export const sessionsPlugin = domain({ api: [sessionRoutes], pages: [sessionPages] });
