import type { Db } from '../platform/db/database.js';
import type { AccountRow, AccountStatus, Role } from '../platform/db/schema.js';
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
 * Other domains (phone, two-step) add their part of the view here, so GET /v1/me needs no
 * knowledge of their tables.
 */
export type ViewContributor = (db: Db, account: AccountRow, view: AccountView) => Promise<void>;
const contributors: ViewContributor[] = [];

export function contributeToAccountView(contributor: ViewContributor): void {
  if (!contributors.includes(contributor)) contributors.push(contributor);
}

export async function toAccountView(db: Db, account: AccountRow): Promise<AccountView> {
  const view: AccountView = {
    id: account.id,
    email: account.email,
    emailVerified: account.email_verified_at !== null,
    username: account.username,
    fullName: account.full_name,
    roles: account.roles,
    country: account.country,
    phone: null,
    twoStep: { enabled: false, methods: [] },
    staffRoles: await staffRolesOf(db, account.id),
    status: account.status,
    createdAt: account.created_at.toISOString(),
  };
  for (const contribute of contributors) await contribute(db, account, view);
  return view;
}
