import { domain } from '../platform/web/domain.js';
import { noticeDismissPages } from './dismiss-pages.js';
import { noticePages } from './pages.js';
import { noticeRoutes } from './routes.js';
import type { NoticeService } from './service.js';

/** The notice feed and its banners. */
export const noticesPlugin = domain<{ notices: NoticeService }>({ api: [noticeRoutes], pages: [noticePages, noticeDismissPages] });
