import { domain } from '../platform/web/domain.js';
import { agentPages } from './pages.js';
import { agentRoutes } from './routes.js';
import type { AgentService } from './service.js';

/** The support agents' desk: queue, cases, account histories, lock and unlock. */
export const agentPlugin = domain<{ agent: AgentService }>({ api: [agentRoutes], pages: [agentPages] });
