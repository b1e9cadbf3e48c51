import { twilioWebhookRoutes } from '../platform/twilio/webhook.js';
import { domain } from '../platform/web/domain.js';
import { phoneAdminPages, phonePages } from './pages.js';
import { phoneRoutes } from './routes.js';
import { phoneClaimRoutes } from './claim-routes.js';
import { phoneClaimPages } from './claim-pages.js';

/** Phone verification, the provider's delivery reports, and the operators' VoIP ranges. */
export const phonePlugin = domain({ api: [phoneRoutes, phoneClaimRoutes, twilioWebhookRoutes], pages: [phonePages, phoneAdminPages, phoneClaimPages] });
