import { domain } from '../platform/web/domain.js';
import { ticketAgentPages } from './ticket-agent-pages.js';
import { ticketAgentRoutes } from './ticket-agent-routes.js';
import { ticketPages } from './ticket-pages.js';
import { ticketRoutes, type TicketOptions } from './ticket-routes.js';

/** Support tickets: contact support without signing in, the conversation both ways, the agents' side. */
export const ticketsPlugin = domain<TicketOptions>({ api: [ticketRoutes, ticketAgentRoutes], pages: [ticketPages, ticketAgentPages] });
