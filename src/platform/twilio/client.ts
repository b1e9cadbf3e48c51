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
 */
export class TwilioError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: number | null,
    readonly moreInfo: string | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TwilioError';
  }
}

/** A create Twilio refused for good (bad number, unsubscribed…): not retried. */
export class TwilioTransportError extends TransportError {
  constructor(readonly twilio: TwilioError) {
    super(twilio.message, !twilio.retryable);
    this.name = 'TwilioTransportError';
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Retry only what may succeed later: throttling, timeouts, Twilio's own failures. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
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
  createMessage(form: URLSearchParams, idempotencyToken: string): Promise<TwilioResource> {
    return this.create('Messages.json', form, idempotencyToken);
  }

  /** POST /2010-04-01/Accounts/{Sid}/Calls.json. Throws TwilioTransportError. */
  createCall(form: URLSearchParams, idempotencyToken: string): Promise<TwilioResource> {
    return this.create('Calls.json', form, idempotencyToken);
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

  private async create(resource: string, form: URLSearchParams, idempotencyToken: string): Promise<TwilioResource> {
    const url = `${this.settings.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(this.settings.accountSid)}/${resource}`;
    try {
      // The token is our outbox message id: a retried hand-off (after a timeout or a lost
      // answer) names the same message, so Twilio answers with it instead of sending again.
      const body = await this.request('POST', url, form, { 'I-Twilio-Idempotency-Token': idempotencyToken });
      if (typeof body.sid !== 'string' || typeof body.status !== 'string') {
        throw new TwilioError('twilio: the answer has no sid', null, null, null, true);
      }
      return body as TwilioResource;
    } catch (error) {
      if (error instanceof TwilioError) throw new TwilioTransportError(error);
      throw error;
    }
  }

  private async request(method: 'GET' | 'POST', url: string, form?: URLSearchParams, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...headers,
        },
        body: form?.toString(),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error);
      throw new TwilioError(`twilio: ${method} ${pathOf(url)}: ${reason}`, null, null, null, true);
    }
    const body = parseJson(text);
    if (response.ok) {
      if (!body) throw new TwilioError(`twilio: ${method} ${pathOf(url)}: answer is not JSON (HTTP ${response.status})`, response.status, null, null, true);
      return body;
    }
    const code = typeof body?.code === 'number' ? body.code : null;
    const message = typeof body?.message === 'string' ? body.message : response.statusText || 'request failed';
    const moreInfo = typeof body?.more_info === 'string' ? body.more_info : null;
    const label = code === null ? '' : ` error ${code}`;
    throw new TwilioError(`twilio${label}: ${message} (HTTP ${response.status})`, response.status, code, moreInfo, retryableStatus(response.status));
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
