import { domain } from '../platform/web/domain.js';
import { gateRoutes } from './routes.js';
import type { GateService } from './service.js';

/** What a member may do: for other services (/v1/gate/check) and for the member. */
export const gatePlugin = domain<{ gate: GateService }>({ api: [gateRoutes] });
