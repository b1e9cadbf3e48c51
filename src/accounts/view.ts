import type { Db } from '../platform/db/database.js';
import type { AccountStatus, MemberAccount, Role } from '../platform/db/schema.js';
import { staffRolesOf } from './queries.js';

/** The account as members and clients see it (GET /v1/me). */
export interface AccountView {
  id: string;
  email: string;
  emailVerified: boolean;
  username: string;
  fullName: string | null;
  roles: Role[];
  country: string;
  phone: { number: string; verified: boolean } | null;
  twoStep: { enabled: boolean; methods: string[] };
  staffRoles: string[];
  status: AccountStatus;
  createdAt: string;
}

/**
 * Another domain's part of the view (the phone, two-step), handed to AccountService in
 * app.ts, so GET /v1/me needs no knowledge of their tables.
 */
export type ViewPart = (account: MemberAccount, view: AccountView) => Promise<void>;

/** The parts of the view that other tables hold (kept in the member cache as one value). */
export type ViewExtras = Pick<AccountView, 'phone' | 'twoStep' | 'staffRoles'>;

export async function viewExtras(db: Db, account: MemberAccount, parts: readonly ViewPart[]): Promise<ViewExtras> {
  const view = toAccountView(account, { phone: null, twoStep: { enabled: false, methods: [] }, staffRoles: await staffRolesOf(db, account.id) });
  for (const part of parts) await part(account, view);
  return { phone: view.phone, twoStep: view.twoStep, staffRoles: view.staffRoles };
}

export function toAccountView(account: MemberAccount, extras: ViewExtras): AccountView {
  return {
    id: account.id,
    email: account.email,
    emailVerified: account.email_verified_at !== null,
    username: account.username,
    fullName: account.full_name,
    roles: account.roles,
    country: account.country,
    phone: extras.phone,
    twoStep: extras.twoStep,
    staffRoles: extras.staffRoles,
    status: account.status,
    createdAt: account.created_at.toISOString(),
  };
}
