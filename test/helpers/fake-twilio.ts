import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { systemClock, type Clock } from '../../src/platform/clock.js';
import type { Db } from '../../src/platform/db/database.js';
import { CALL_DIALLED, listPage, MESSAGE_LEFT, rfc2822 } from './fake-twilio-list.js';
// The official library's webhook module: an implementation of the signature independent of ours.
import { getExpectedTwilioSignature, validateRequest } from 'twilio/lib/webhooks/webhooks.js';

/**
 * A local stand-in for Twilio's REST API (Messages, Calls, Lookup v2) on 127.0.0.1:
 * Basic auth, form bodies, JSON answers and error documents shaped like Twilio's. Like the
 * real API it does not dedupe: every accepted POST is a new message or call, whatever
 * headers it carries. The Messages and Calls lists filter by To, From and DateSent /
 * StartTime (which stay empty until the message is sent or the call dialled, see
 * setStatus) and page with PageSize, Page and PageToken as Twilio does. Records every
 * request; can fail, hang or drop the next requests on demand, or stop listening.
 */

export type Failure =
  | 400 | 401 | 429 | 500 | 502 | 503
  /** Never answer (the client's timeout fires). */
  | 'hang'
  /** Close the connection without answering, having done nothing. */
  | 'drop'
  /** Create the resource, then never answer: a lost response. */
  | 'accept-then-hang'
  /** Create the resource, then close the connection without a word: a lost response. */
  | 'accept-then-drop'
  /** Create the resource, then answer 500. */
  | 'accept-then-500';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

export interface FakeResource {
  sid: string;
  kind: 'message' | 'call';
  form: URLSearchParams;
  /** The I-Twilio-Idempotency-Token header it was posted with, if any (Twilio ignores it). */
  idempotencyToken: string | undefined;
  json: Record<string, unknown>;
  createdAt: Date;
  /** date_sent of a message, start_time of a call: null until sent or dialled. */
  listedAt: Date | null;
}

export interface LineTypeAnswer {
  type: string | null;
  carrierName: string | null;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const E164 = /^\+[1-9]\d{6,14}$/;

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

const failureErrors: Record<number, ReturnType<typeof twilioError>> = {
  400: twilioError(400, 21211, "The 'To' number is not a valid phone number."),
  401: twilioError(401, 20003, 'Authenticate'),
  429: twilioError(429, 20429, 'Too Many Requests'),
  500: twilioError(500, 20500, 'Internal Server Error'),
  502: twilioError(502, 20502, 'Bad Gateway'),
  503: twilioError(503, 20503, 'Service Unavailable'),
};

export class FakeTwilio {
  readonly accountSid = `AC${hex(16)}`;
  readonly authToken = hex(16);
  readonly from = '+15005550006';
  readonly requests: RecordedRequest[] = [];
  readonly messages: FakeResource[] = [];
  readonly calls: FakeResource[] = [];
  /** Line types Lookup answers, by E.164; other valid numbers are mobiles. */
  readonly lineTypes = new Map<string, LineTypeAnswer>();
  /** Dates resources with this clock (set it to the app's ManualClock so DateSent filters agree). */
  clock: Clock = systemClock;
  /** A trial account: Twilio puts "Sent from your Twilio trial account - " before each body. */
  trial = false;
  private readonly failures: Array<{ failure: Failure; error?: { code: number; message: string } }> = [];
  private readonly hanging = new Set<ServerResponse>();
  private server!: Server;
  private port = 0;
  url = '';

  static async start(): Promise<FakeTwilio> {
    const fake = new FakeTwilio();
    fake.server = createServer((req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    fake.url = `http://127.0.0.1:${fake.port}`;
    return fake;
  }

  /** Stops listening: connections are refused (a request that certainly reached nobody). */
  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  /** The environment that points Verity at this server. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      SMS_TRANSPORT: 'twilio',
      TWILIO_ACCOUNT_SID: this.accountSid,
      TWILIO_AUTH_TOKEN: this.authToken,
      TWILIO_FROM: this.from,
      TWILIO_BASE_URL: this.url,
      ...extra,
    };
  }

  /** The next `count` requests fail this way (optionally with a given Twilio error). */
  failNext(count: number, failure: Failure, error?: { code: number; message: string }): void {
    for (let i = 0; i < count; i++) this.failures.push(error ? { failure, error } : { failure });
  }

  /** Requests to one resource, e.g. 'Messages.json', 'Calls.json', '/v2/PhoneNumbers'. */
  requestsTo(fragment: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(fragment));
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    this.requests.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, form });

    const next = this.failures.shift();
    if (next && (typeof next.failure === 'number' || next.failure === 'hang' || next.failure === 'drop')) {
      if (next.failure === 'hang') return void this.hanging.add(res);
      if (next.failure === 'drop') return void req.socket.destroy();
      const base = failureErrors[next.failure]!;
      return this.send(res, next.failure, next.error ? twilioError(next.failure, next.error.code, next.error.message) : base);
    }
    if (req.headers.authorization !== 'Basic ' + Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')) {
      return this.send(res, 401, failureErrors[401]!);
    }

    const lookup = /^\/v2\/PhoneNumbers\/([^/]+)$/.exec(decodeURIComponent(url.pathname));
    if (req.method === 'GET' && lookup) return this.send(res, 200, this.lookup(lookup[1]!, url.searchParams.get('Fields')));

    const fetched = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\/([^/]+)\.json$/.exec(url.pathname);
    if (req.method === 'GET' && fetched) {
      const found = (fetched[2] === 'Messages' ? this.messages : this.calls).find((r) => r.sid === fetched[3]);
      if (fetched[1] !== this.accountSid || !found) return this.send(res, 404, twilioError(404, 20404, 'The requested resource was not found'));
      return this.send(res, 200, found.json);
    }

    const create = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(url.pathname);
    if (req.method === 'GET' && create) {
      if (create[1] !== this.accountSid) return this.send(res, 401, failureErrors[401]!);
      const kind = create[2] === 'Messages' ? 'message' : 'call';
      return this.send(res, 200, listPage(kind === 'message' ? this.messages : this.calls, kind, url, this.trial));
    }
    if (req.method !== 'POST' || !create) return this.send(res, 404, twilioError(404, 20404, 'The requested resource was not found'));
    if (create[1] !== this.accountSid) return this.send(res, 401, failureErrors[401]!);

    const kind = create[2] === 'Messages' ? 'message' : 'call';
    const refusal = this.validate(kind, form);
    if (refusal) return this.send(res, 400, refusal);
    const resource = this.createResource(kind, form, req.headers['i-twilio-idempotency-token'] as string | undefined);

    if (next?.failure === 'accept-then-hang') return void this.hanging.add(res);
    if (next?.failure === 'accept-then-drop') return void req.socket.destroy();
    if (next?.failure === 'accept-then-500') return this.send(res, 500, failureErrors[500]!);
    this.send(res, 201, resource.json);
  }

  /**
   * What Twilio would now answer for the resource (the status a lost callback carried). A
   * message that has left Twilio gets its date_sent, a call that was dialled its start_time,
   * as on the real API: only then do DateSent / StartTime filters see them.
   */
  setStatus(sid: string, status: string, errorCode: number | null = null): void {
    const found = this.resource(sid);
    Object.assign(found.json, { status, error_code: errorCode, date_updated: rfc2822(this.clock.now()) });
    const left = found.kind === 'message' ? MESSAGE_LEFT.has(status) : CALL_DIALLED.has(status);
    if (left && !found.listedAt) {
      found.listedAt = this.clock.now();
      found.json[found.kind === 'message' ? 'date_sent' : 'start_time'] = rfc2822(found.listedAt);
    }
  }

  private validate(kind: 'message' | 'call', form: URLSearchParams) {
    const to = form.get('To') ?? '';
    if (!E164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (form.get('From') !== this.from) return twilioError(400, 21606, `The 'From' phone number provided (${form.get('From')}) is not a valid message-capable Twilio phone number for this destination/account`);
    if (kind === 'message' && !form.get('Body')) return twilioError(400, 21602, 'Message body is required.');
    if (kind === 'call' && !form.get('Twiml') && !form.get('Url')) return twilioError(400, 21205, 'Url parameter is required.');
    return null;
  }

  private createResource(kind: 'message' | 'call', form: URLSearchParams, token: string | undefined): FakeResource {
    const sid = (kind === 'message' ? 'SM' : 'CA') + hex(16);
    const createdAt = this.clock.now();
    const now = rfc2822(createdAt);
    const common = {
      account_sid: this.accountSid,
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      direction: 'outbound-api',
      from: form.get('From'),
      to: form.get('To'),
      price: null,
      price_unit: 'USD',
      sid,
      status: 'queued',
    };
    const json =
      kind === 'message'
        ? { ...common, body: form.get('Body'), date_sent: null, error_code: null, error_message: null, messaging_service_sid: null, num_media: '0', num_segments: '1', uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json` }
        : { ...common, answered_by: null, caller_name: null, duration: null, end_time: null, parent_call_sid: null, start_time: null, uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json` };
    const resource: FakeResource = { sid, kind, form, idempotencyToken: token, json, createdAt, listedAt: null };
    (kind === 'message' ? this.messages : this.calls).push(resource);
    return resource;
  }

  private lookup(number: string, fields: string | null) {
    const valid = E164.test(number);
    const answer = this.lineTypes.get(number) ?? { type: 'mobile', carrierName: 'Fake Mobile' };
    return {
      calling_country_code: valid ? number.slice(1, 3) : null,
      country_code: null,
      phone_number: number,
      national_format: null,
      valid,
      validation_errors: valid ? [] : ['INVALID_BUT_POSSIBLE'],
      caller_name: null,
      sim_swap: null,
      call_forwarding: null,
      line_status: null,
      line_type_intelligence:
        valid && fields?.split(',').includes('line_type_intelligence')
          ? { error_code: null, mobile_country_code: null, mobile_network_code: null, carrier_name: answer.carrierName, type: answer.type }
          : null,
      url: `${this.url}/v2/PhoneNumbers/${encodeURIComponent(number)}`,
    };
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    // No keep-alive: after down(), the next request is refused outright rather than written
    // to a pooled socket the fake has just closed (which would leave its outcome unknown).
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify(body));
  }

  resource(sid: string): FakeResource {
    const found = [...this.messages, ...this.calls].find((r) => r.sid === sid);
    if (!found) throw new Error(`no resource ${sid}`);
    return found;
  }

  /** The parameters Twilio posts to the StatusCallback of a message or call. */
  callbackParams(sid: string, status: string, extra: Record<string, string> = {}): Record<string, string> {
    const r = this.resource(sid);
    const base = { AccountSid: this.accountSid, ApiVersion: '2010-04-01', From: r.form.get('From') ?? '', To: r.form.get('To') ?? '' };
    if (r.kind === 'message') {
      return { ...base, MessageSid: sid, SmsSid: sid, MessageStatus: status, SmsStatus: status, ...extra };
    }
    return { ...base, CallSid: sid, CallStatus: status, Direction: 'outbound-api', CallbackSource: 'call-progress-events', SequenceNumber: '0', ...extra };
  }

  /** Posts a status callback to the app as Twilio would: to the resource's StatusCallback, signed. */
  async sendStatus(app: FastifyInstance, sid: string, status: string, options: SignedPostOptions & { extra?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
    const url = this.resource(sid).form.get('StatusCallback');
    if (!url) throw new Error(`${sid} has no StatusCallback`);
    return postSigned(app, url, this.callbackParams(sid, status, options.extra), { authToken: this.authToken, ...options });
  }
}

export interface SignedPostOptions {
  authToken?: string;
  /** Sign this URL instead of the one posted to. */
  signUrl?: string;
  /** Change the parameters after signing. */
  tamper?: Record<string, string>;
  /** Send no X-Twilio-Signature at all. */
  unsigned?: boolean;
  remoteAddress?: string;
}

/** POSTs form parameters to `url` on the app, signed with the official library's function. */
export async function postSigned(app: FastifyInstance, url: string, params: Record<string, string>, options: SignedPostOptions = {}): Promise<LightMyRequestResponse> {
  const signUrl = options.signUrl ?? url;
  const signature = getExpectedTwilioSignature(options.authToken ?? '', signUrl, params);
  if (!options.tamper && !validateRequest(options.authToken ?? '', signature, signUrl, params)) throw new Error('twilio library disagrees with itself');
  const sent = { ...params, ...options.tamper };
  // The path and query exactly as written (new URL() would re-encode characters like ').
  const target = url.replace(/^[a-z]+:\/\/[^/]+/i, '');
  return app.inject({
    method: 'POST',
    url: target,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(options.unsigned ? {} : { 'x-twilio-signature': signature }) },
    payload: new URLSearchParams(sent).toString(),
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

/** Puts an SMS or voice message in the real outbox, as a service would inside its transaction. */
export async function queuePhoneMessage(db: Db, clock: Clock, channel: 'sms' | 'voice', to: string, text: string): Promise<string> {
  const row = await db
    .insertInto('outbox')
    .values({ channel, recipient: to, template: 'test', subject: null, body_text: text, body_html: null, next_attempt_at: clock.now(), created_at: clock.now() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function outboxRow(db: Db, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
