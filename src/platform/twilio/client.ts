import { TransportError } from '../messaging/transport.js';

/** What the client needs to talk to Twilio (a subset of Config['twilio']). */
export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** The REST API host (Messages, Calls). */
  baseUrl: string;
  /** The Lookup v2 host. */
  lookupBaseUrl: string;
}

export interface TwilioClientOptions {
  /** Per request, including reading the answer. */
  timeoutMs?: number;
}

/** A Message or Call resource as Twilio returns it (only the fields Verity reads). */
export interface TwilioResource {
  sid: string;
  status: string;
  [field: string]: unknown;
}

/**
 * A request Twilio did not answer with success. `status` is null when no answer came
 * (network error, timeout); `code` is Twilio's own error number (21211, 21610…).
 * `uncertain`: the request may have taken effect at Twilio all the same (see `outcomeOf`).
 */
export class TwilioError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: number | null,
    readonly moreInfo: string | null,
    readonly retryable: boolean,
    readonly uncertain = false,
  ) {
    super(message);
    this.name = 'TwilioError';
  }
}

/** A create Twilio refused for good (bad number, unsubscribed…) is not retried. */
export class TwilioTransportError extends TransportError {
  constructor(readonly twilio: TwilioError) {
    super(twilio.message, !twilio.retryable, twilio.uncertain);
    this.name = 'TwilioTransportError';
  }
}

/** One page of a Twilio list resource, as Twilio shapes it (only the fields Verity reads). */
interface ListPage {
  next_page_uri?: string | null;
  [key: string]: unknown;
}

/** A list lookup reads at most this many pages (Verity's caps keep one number's list short). */
const MAX_LIST_PAGES = 10;
const LIST_PAGE_SIZE = 100;

const DEFAULT_TIMEOUT_MS = 10_000;

/** Retry only what may succeed later: throttling, timeouts, Twilio's own failures. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Whether a POST that got this status may have created the resource anyway. A 4xx is a
 * refusal (429 and 408 included: nothing was done). 503 says the server could not take the
 * request at all. Any other 5xx (500 after the insert, a 502 or 504 from a gateway that had
 * forwarded it) leaves the outcome unknown.
 */
function uncertainStatus(status: number): boolean {
  return status >= 500 && status !== 503;
}

/**
 * Network failures that happen before a single byte of the request reaches Twilio: the
 * request certainly did nothing. Everything else (a reset or closed socket, a timeout, which
 * cannot tell a slow connect from a lost answer) leaves the outcome unknown.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
function certainlyNotSent(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } })?.cause?.code;
  if (typeof code !== 'string') return false;
  // A TLS handshake that failed (bad or expired certificate) never carried the request either.
  return NOT_SENT_CODES.has(code) || code.startsWith('ERR_TLS_') || code.includes('CERT');
}

/**
 * Twilio's REST API over plain fetch: Basic auth with the account SID and auth token,
 * form-encoded bodies, JSON answers, a timeout on every request.
 */
export class TwilioClient {
  private readonly authorization: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: TwilioSettings,
    options: TwilioClientOptions = {},
  ) {
    this.authorization = 'Basic ' + Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** POST /2010-04-01/Accounts/{Sid}/Messages.json. Throws TwilioTransportError. */
  createMessage(form: URLSearchParams): Promise<TwilioResource> {
    return this.create('Messages.json', form);
  }

  /** POST /2010-04-01/Accounts/{Sid}/Calls.json. Throws TwilioTransportError. */
  createCall(form: URLSearchParams): Promise<TwilioResource> {
    return this.create('Calls.json', form);
  }

  /**
   * GET /2010-04-01/Accounts/{Sid}/{Messages|Calls}.json with filters (To, DateSent>,
   * StartTime>…), following next_page_uri. Throws TwilioError, also when the list runs past
   * MAX_LIST_PAGES: a lookup that could not read everything has not shown that nothing is there.
   */
  async list(kind: 'Messages' | 'Calls', filters: Record<string, string>): Promise<Record<string, unknown>[]> {
    const base = `/2010-04-01/Accounts/${encodeURIComponent(this.settings.accountSid)}/${kind}.json`;
    const key = kind === 'Messages' ? 'messages' : 'calls';
    const items: Record<string, unknown>[] = [];
    let uri: string | null = `${base}?${new URLSearchParams({ ...filters, PageSize: String(LIST_PAGE_SIZE) }).toString()}`;
    for (let page = 0; uri !== null; page++) {
      // Our credentials only ever go to our own account's list on the configured host.
      if (page === MAX_LIST_PAGES || !uri.startsWith(`${base}?`)) {
        throw new TwilioError(`twilio: GET ${base}: ${page === MAX_LIST_PAGES ? `more than ${MAX_LIST_PAGES} pages` : 'next page outside the list'}`, null, null, null, true);
      }
      const body = (await this.request('GET', `${this.settings.baseUrl}${uri}`)) as ListPage;
      const found = body[key];
      if (!Array.isArray(found)) throw new TwilioError(`twilio: GET ${base}: the answer has no ${key}`, null, null, null, true);
      items.push(...(found as Record<string, unknown>[]));
      uri = typeof body.next_page_uri === 'string' && body.next_page_uri !== '' ? body.next_page_uri : null;
    }
    return items;
  }

  /** GET /2010-04-01/Accounts/{Sid}/{Messages|Calls}/{sid}.json: the resource as Twilio has it now. Throws TwilioError. */
  fetchResource(kind: 'Messages' | 'Calls', sid: string): Promise<Record<string, unknown>> {
    const url = `${this.settings.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.settings.accountSid)}/${kind}/${encodeURIComponent(sid)}.json`;
    return this.request('GET', url);
  }

  /** GET /v2/PhoneNumbers/{number} on the Lookup host. Throws TwilioError. */
  lookupPhoneNumber(e164: string, fields: string): Promise<Record<string, unknown>> {
    const url = `${this.settings.lookupBaseUrl}/v2/PhoneNumbers/${encodeURIComponent(e164)}?Fields=${encodeURIComponent(fields)}`;
    return this.request('GET', url);
  }

  private async create(resource: string, form: URLSearchParams): Promise<TwilioResource> {
    const url = `${this.settings.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.settings.accountSid)}/${resource}`;
    try {
      // No idempotency header: I-Twilio-Idempotency-Token is one Twilio sets on the webhooks
      // it sends; its REST API ignores it on requests, so two POSTs make two texts. A create
      // whose outcome is unknown is looked up before it is retried (twilio/earlier-handoff.ts).
      const body = await this.request('POST', url, form);
      if (typeof body.sid !== 'string' || typeof body.status !== 'string') {
        // A success answer without its sid: created, but we cannot say which one.
        throw new TwilioError('twilio: the answer has no sid', null, null, null, true, true);
      }
      return body as TwilioResource;
    } catch (error) {
      if (error instanceof TwilioError) throw new TwilioTransportError(error);
      throw error;
    }
  }

  private async request(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<Record<string, unknown>> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form?.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error);
      throw new TwilioError(`twilio: ${method} ${pathOf(url)}: ${reason}`, null, null, null, true, !certainlyNotSent(error));
    }
    const body = parseJson(text);
    if (response.ok) {
      if (!body) throw new TwilioError(`twilio: ${method} ${pathOf(url)}: answer is not JSON (HTTP ${response.status})`, response.status, null, null, true, true);
      return body;
    }
    const code = typeof body?.code === 'number' ? body.code : null;
    const message = typeof body?.message === 'string' ? body.message : response.statusText || 'request failed';
    const moreInfo = typeof body?.more_info === 'string' ? body.more_info : null;
    const label = code === null ? '' : ` error ${code}`;
    throw new TwilioError(
      `twilio${label}: ${message} (HTTP ${response.status})`,
      response.status,
      code,
      moreInfo,
      retryableStatus(response.status),
      uncertainStatus(response.status),
    );
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The path only: never the query, and never credentials. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(bad url)';
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
