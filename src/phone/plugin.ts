import { twilioWebhookRoutes } from '../platform/twilio/webhook.js';
import { domain } from '../platform/web/domain.js';
import { phoneAdminPages, phonePages } from './pages.js';
import { phoneRoutes } from './routes.js';

/** Phone verification, the provider's delivery reports, and the operators' VoIP ranges. */
export const phonePlugin = domain({ api: [phoneRoutes, twilioWebhookRoutes], pages: [phonePages, phoneAdminPages] });
