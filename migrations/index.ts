// The ordered, frozen migration set. The same SQL runs on PGlite and PostgreSQL.
import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_phone.js';
import * as m0003 from './0003_delivery_status.js';
import * as m0004 from './0004_help_notices.js';
import * as m0005 from './0005_message_order.js';
import * as m0006 from './0006_audit_no_truncate.js';
import * as m0007 from './0007_phone_subscriber.js';
import * as m0008 from './0008_outbox_sealed.js';
import * as m0009 from './0009_challenges.js';
import * as m0010 from './0010_two_step.js';
import * as m0011 from './0011_notice_dismissals.js';
import * as m0012 from './0012_recovery.js';
import * as m0013 from './0013_known_devices.js';
import * as m0014 from './0014_support_tickets.js';
import * as m0015 from './0015_security_resets.js';
import * as m0016 from './0016_agent_desk.js';
import * as m0018 from './0018_duplicate_account_help.js';
import * as m0019 from './0019_setup_token_nonce.js';
import * as m0020 from './0020_member_change_notify.js';
import * as m0021 from './0021_audit_retention.js';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_phone': m0002,
  '0003_delivery_status': m0003,
  '0004_help_notices': m0004,
  '0005_message_order': m0005,
  '0006_audit_no_truncate': m0006,
  '0007_phone_subscriber': m0007,
  '0008_outbox_sealed': m0008,
  '0009_challenges': m0009,
  '0010_two_step': m0010,
  '0011_notice_dismissals': m0011,
  '0012_recovery': m0012,
  '0013_known_devices': m0013,
  '0014_support_tickets': m0014,
  '0015_security_resets': m0015,
  '0016_agent_desk': m0016,
  '0018_duplicate_account_help': m0018,
  '0019_setup_token_nonce': m0019,
  '0020_member_change_notify': m0020,
  '0021_audit_retention': m0021,
};
