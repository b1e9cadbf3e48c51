import type { LightMyRequestResponse } from 'fastify';
import { randomIp, uniqueUser, type TestApp } from '../helpers/app.js';

/**
 * A tiny browser for page tests: keeps cookies between requests, reads the CSRF token from
 * the page it fetched and posts forms URL-encoded, the way a browser without JavaScript does.
 */
export class Visitor {
  readonly cookies = new Map<string, string>();
  /** The Set-Cookie headers of the last response, by cookie name, as sent. */
  lastSetCookies = new Map<string, string>();
  csrf = '';
  readonly ip = randomIp();

  constructor(private readonly t: TestApp) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: LightMyRequestResponse): void {
    this.lastSetCookies = new Map();
    const raw = res.headers['set-cookie'];
    for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      this.lastSetCookies.set(name, line);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (token?.[1]) this.csrf = token[1];
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const res = await this.t.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader() }, remoteAddress: this.ip });
    this.remember(res);
    return res;
  }

  /** Posts a form with the CSRF token of the last page fetched (unless the fields carry their own). */
  async post(url: string, fields: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const res = await this.t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: encodeForm({ _csrf: this.csrf, ...fields }),
      remoteAddress: this.ip,
    });
    this.remember(res);
    return res;
  }
}

export function encodeForm(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
  }
  return params.toString();
}

/** A new visitor who signed up through /signup; throws unless it landed on /account. */
export async function signUpByForm(t: TestApp, overrides: Record<string, string | string[]> = {}) {
  const visitor = new Visitor(t);
  const user = { ...uniqueUser('page'), ...overrides } as ReturnType<typeof uniqueUser>;
  await visitor.get('/signup');
  const res = await visitor.post('/signup', { email: user.email, username: user.username, password: user.password, country: user.country, roles: user.roles });
  if (res.statusCode !== 303 || res.headers.location !== '/account') throw new Error(`form sign-up failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return { visitor, user };
}

/** The text of the element with this id (tags stripped, entities for quotes and & decoded). */
export function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return match?.[2] === undefined ? undefined : decode(match[2].replace(/<[^>]+>/g, '').trim());
}

/** The attributes of the first <input>/<select>/<textarea> with this name. */
export function control(html: string, name: string): Record<string, string> | undefined {
  const match = new RegExp(`<(?:input|select|textarea)\\b[^>]*\\bname="${name}"[^>]*>`).exec(html);
  if (!match) return undefined;
  const attrs: Record<string, string> = {};
  for (const [, key, , value] of match[0].matchAll(/([\w-]+)(="([^"]*)")?/g)) if (key) attrs[key] = decode(value ?? '');
  return attrs;
}

export function decode(text: string): string {
  return text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Security headers every page must carry. */
export function expectSecureHeaders(res: LightMyRequestResponse): string[] {
  const problems: string[] = [];
  const csp = String(res.headers['content-security-policy'] ?? '');
  const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? '';
  if (!scriptSrc) problems.push('no script-src');
  if (scriptSrc.includes("'unsafe-inline'") || scriptSrc.includes("'unsafe-eval'")) problems.push(`script-src too loose: ${scriptSrc}`);
  if (!/frame-ancestors 'none'/.test(csp)) problems.push("no frame-ancestors 'none'");
  if (!/object-src 'none'/.test(csp)) problems.push("no object-src 'none'");
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no nosniff');
  // Links in pages (e.g. /verify-email?token=) must not leak to other sites.
  if (res.headers['referrer-policy'] !== 'no-referrer') problems.push(`referrer-policy ${String(res.headers['referrer-policy'])}`);
  return problems;
}

/** Passes /account/step-up with the password (accounts without 2SV); throws unless it went back to `next`. */
export async function stepUpByForm(visitor: Visitor, password: string, next = '/account/security'): Promise<void> {
  await visitor.get(`/account/step-up?next=${encodeURIComponent(next)}`);
  const res = await visitor.post('/account/step-up', { next, method: 'password', password });
  if (res.statusCode !== 303 || res.headers.location !== next) throw new Error(`page step-up failed: ${res.statusCode} ${res.body.slice(0, 300)}`);
}
