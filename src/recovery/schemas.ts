import { Type } from 'typebox';
import { passwordPolicy } from '../accounts/password.js';
import { EMAIL_MAX } from '../accounts/rules.js';
import { Strict } from '../platform/web/schemas.js';

/** Shared by the API and the recovery pages, so each limit is written once. */
export const LoginBody = Strict({ login: Type.String({ minLength: 1, maxLength: 320, description: 'Username or e-mail, or the phone number verified on the account (with + and the country code)' }) });
export const NewPasswordBody = Strict({
  newPassword: Type.String({ minLength: 1, maxLength: passwordPolicy.maxLength * 4, description: `${passwordPolicy.minLength} to ${passwordPolicy.maxLength} characters, not easy to guess` }),
});
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const DETAILS_MAX = 5000;
export const AnonymousReportBody = Strict({
  login: Type.Optional(Type.String({ maxLength: 320 })),
  contactEmail: Type.String({ minLength: 3, maxLength: EMAIL_MAX, description: 'Where support may answer' }),
  details: Type.String({ minLength: 1, maxLength: DETAILS_MAX }),
});
export const SignedInReportBody = Strict({ details: Type.Optional(Type.String({ maxLength: DETAILS_MAX })) });
export const EmailChangeBody = Strict({ email: Type.String({ minLength: 1, maxLength: EMAIL_MAX }) });
