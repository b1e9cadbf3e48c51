import { domain } from '../platform/web/domain.js';
import { securityResetAgentPages } from './agent-pages.js';
import { securityResetPages } from './pages.js';
import { securityResetRoutes, type SecurityResetOptions } from './routes.js';

/** The lost-phone security reset: the request, the agent's decision, the waiting period. */
export const securityResetPlugin = domain<SecurityResetOptions>({ api: [securityResetRoutes], pages: [securityResetPages, securityResetAgentPages] });
