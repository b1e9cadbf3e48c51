import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountView } from '../../accounts/view.js';
import { formatPhone } from '../phone-format.js';
import { countryOptions } from '../countries.js';
import { AppError, type ErrorCode } from '../errors.js';
import { csrfBinding, currentMember } from './auth.js';
import { cookieName } from './cookies.js';
import { parseDismissed, type Notice } from './notices.js';
import { toAppError } from './problems.js';

/** What every page template can rely on. */
export interface PageData {
  title: string;
  /** Form values to show again after an error (never passwords). */
  values?: Record<string, unknown>;
  /** Field name → message shown beside that field. */
  errors?: Record<string, string>;
  /** A message for the whole form, shown above it. */
  formError?: string | undefined;
  [key: string]: unknown;
}

export interface PageContext {
  account: AccountView | null;
  csrfToken: string;
  notices: Notice[];
  countries: typeof countryOptions;
  /** The path of the page, so the navigation can mark where the member is. */
  currentPath: string;
  /** E.164 → "+44 7400 123456", for showing numbers to people. */
  formatPhone: (e164: string) => string;
}

/** The viewer's country: the account's, else the edge header (e.g. CF-IPCountry). */
function viewerCountry(request: FastifyRequest, account: AccountView | null): string | null {
  if (account) return account.country;
  const header = request.headers[request.server.verity.config.countryHeader];
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : null;
}

export async function pageContext(request: FastifyRequest, reply: FastifyReply): Promise<PageContext> {
  const { verity } = request.server;
  const found = await currentMember(request);
  const account = found ? await verity.accounts.view(found.account) : null;
  const notices = await verity.notices
    .forViewer({
      country: viewerCountry(request, account),
      userTypes: account?.roles ?? [],
      accountId: found?.account.id ?? null,
      dismissed: found ? [] : parseDismissed(request.cookies?.[cookieName('dismissedNotices', verity.config.production)]),
    })
    .catch((err: unknown) => {
      request.log.warn({ err }, 'notices unavailable');
      return [];
    });
  return { account, csrfToken: reply.generateCsrf({ userInfo: csrfBinding(request) }), notices, countries: countryOptions, currentPath: request.url.split('?')[0] ?? '/', formatPhone };
}

/** Renders templates/pages/<template>.eta inside the layout. */
export async function renderPage(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: PageData,
  status = 200,
): Promise<FastifyReply> {
  const context = await pageContext(request, reply);
  const html = await reply.viewAsync(template, { ...context, values: {}, errors: {}, ...data });
  return reply.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(html);
}

/** Which form field a refusal without field errors belongs to, e.g. { username_taken: 'username' }. */
export type FieldFor = Partial<Record<ErrorCode, string>>;

/**
 * Splits an AppError into messages beside fields and one above the form. A refusal about one
 * field (a taken username, a wrong password) goes beside that field when the form names it.
 */
export function formErrors(error: AppError, fieldFor: FieldFor = {}): { errors: Record<string, string>; formError: string | undefined } {
  const errors: Record<string, string> = {};
  for (const fe of error.fieldErrors) {
    const field = fe.path.split('/')[1];
    if (field && !errors[field]) errors[field] = fe.message;
  }
  const owner = fieldFor[error.code];
  if (owner && !Object.keys(errors).length) errors[owner] = error.detail;
  const formError = Object.keys(errors).length ? undefined : error.detail;
  return { errors, formError };
}

/**
 * Runs a form step: on success redirects (303) to the next page; on a refusal re-renders the
 * form with the problem's detail beside its field and the input kept.
 */
export async function handleForm(
  request: FastifyRequest,
  reply: FastifyReply,
  form: { template: string; title: string; values: Record<string, unknown>; extra?: Record<string, unknown>; fieldFor?: FieldFor },
  action: () => Promise<string>,
): Promise<FastifyReply> {
  try {
    const next = await action();
    return reply.redirect(next, 303);
  } catch (error) {
    const appError = toAppError(error);
    if (appError.status >= 500) throw error;
    if (appError.retryAfter !== undefined) reply.header('Retry-After', String(appError.retryAfter));
    return renderPage(request, reply, form.template, { title: form.title, values: form.values, ...form.extra, ...formErrors(appError, form.fieldFor) }, appError.status);
  }
}

/** Form bodies arrive as strings or arrays of strings; this reads one field safely. */
export function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : '';
  return typeof value === 'string' ? value : '';
}

export function fields(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** Only same-site paths may be redirect targets (no open redirects). */
export function safeNext(next: unknown, fallback = '/account'): string {
  return typeof next === 'string' && /^\/(?![/\\])[\w\-./?=&%]*$/.test(next) ? next : fallback;
}

export function pageError(status: number): AppError {
  return status === 404 ? new AppError('not_found') : new AppError('internal_error');
}

/** For a form whose target may be gone already (a double submit): only `not_found` is swallowed. */
export function ignoreNotFound(error: unknown): void {
  if (error instanceof AppError && error.code === 'not_found') return;
  throw error;
}
