import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Metrics } from '../metrics.js';
import { AppError } from '../errors.js';
import { findMessageByProviderId, isPhoneMessage, recordDelivery, type DeliveryStatus } from '../messaging/delivery.js';
import { apiErrorHandler, sendProblem, toAppError } from '../web/problems.js';
import { NoContent, problems } from '../web/schemas.js';
import { isValidTwilioSignature, WEBHOOK_PATH, type FormParams } from './signature.js';
import { callDeliveryStatus, messageDeliveryStatus } from './status.js';

/** Twilio's callbacks are a few hundred bytes; anything near this is not from Twilio. */
const CALLBACK_BODY_LIMIT = 64 * 1024;
const SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;

const CallbackBody = Type.Object(
  {
    MessageSid: Type.Optional(Type.String({ description: 'Message callbacks: the Message SID (SM…)' })),
    MessageStatus: Type.Optional(Type.String({ description: 'queued, sending, sent, delivered, undelivered, failed…' })),
    CallSid: Type.Optional(Type.String({ description: 'Call callbacks: the Call SID (CA…)' })),
    CallStatus: Type.Optional(Type.String({ description: 'initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled' })),
    ErrorCode: Type.Optional(Type.String({ description: "Twilio's error code, when the message failed" })),
  },
  { additionalProperties: true, description: 'Twilio status callback (application/x-www-form-urlencoded), signed with X-Twilio-Signature' },
);

interface Callback {
  sid: string;
  channel: 'sms' | 'voice';
  providerStatus: string;
  status: DeliveryStatus;
  errorCode: string | null;
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The SID, status and error of a Message or Call status callback; null if it is neither. */
export function readCallback(params: FormParams): Callback | null {
  const errorCode = single(params.ErrorCode);
  const code = errorCode && /^\d{1,10}$/.test(errorCode) ? errorCode : null;
  const callSid = single(params.CallSid);
  const callStatus = single(params.CallStatus);
  if (callSid && callStatus) {
    const status = callDeliveryStatus(callStatus);
    return SID.test(callSid) && status ? { sid: callSid, channel: 'voice', providerStatus: callStatus, status, errorCode: code } : null;
  }
  const messageSid = single(params.MessageSid) ?? single(params.SmsSid);
  const messageStatus = single(params.MessageStatus) ?? single(params.SmsStatus);
  if (messageSid && messageStatus) {
    const status = messageDeliveryStatus(messageStatus);
    return SID.test(messageSid) && status ? { sid: messageSid, channel: 'sms', providerStatus: messageStatus, status, errorCode: code } : null;
  }
  return null;
}

/** The URL Twilio requested and signed: our public URL, and the query exactly as received. */
function signedUrl(publicUrl: string, request: FastifyRequest): string {
  const queryAt = request.url.indexOf('?');
  return publicUrl + WEBHOOK_PATH + (queryAt === -1 ? '' : request.url.slice(queryAt));
}

/** Finds the callback's outbox message: by the id in our callback URL, else by the SID. */
async function messageFor(db: Db, request: FastifyRequest, sid: string): Promise<string | null> {
  const named = (request.query as Record<string, unknown> | undefined)?.message;
  if (typeof named === 'string') return (await isPhoneMessage(db, named)) ? named : null;
  return findMessageByProviderId(db, sid);
}

/** Records one verified callback. Unknown messages and untracked statuses are ignored. */
async function handleCallback(deps: { db: Db; clock: Clock; metrics: Metrics }, request: FastifyRequest, params: FormParams): Promise<void> {
  const callback = readCallback(params);
  if (!callback) {
    deps.metrics.deliveryReports.inc({ result: 'untracked' });
    request.log.info('twilio callback without a tracked status; ignored');
    return;
  }
  const outboxId = await messageFor(deps.db, request, callback.sid);
  if (!outboxId) {
    deps.metrics.deliveryReports.inc({ result: 'unknown_message' });
    request.log.info({ sid: callback.sid }, 'twilio callback for an unknown message; ignored');
    return;
  }
  deps.metrics.deliveryReports.inc({ result: callback.status });
  const changed = await recordDelivery(deps.db, deps.clock.now(), {
    outboxId,
    providerId: callback.sid,
    status: callback.status,
    providerStatus: callback.providerStatus,
    errorCode: callback.errorCode,
  });
  request.log.info({ outboxId, sid: callback.sid, status: callback.providerStatus, changed }, 'twilio delivery status');
}

/**
 * POST /v1/webhooks/sms/twilio: Twilio's status callbacks for messages and calls.
 * Form-encoded (the parser lives in this plugin only; the rest of /v1 stays JSON-only),
 * signed with the auth token, answered 204 whether or not the message is known.
 */
export const twilioWebhookRoutes: FastifyPluginAsync = async (app) => {
  const { config, db, clock, limiter, metrics } = app.verity;
  app.removeAllContentTypeParsers();
  await app.register(formbody, { bodyLimit: CALLBACK_BODY_LIMIT });
  // Its refusals state its own limits, not the JSON API's (1 MiB of application/json).
  app.setErrorHandler(async (error, request, reply) => {
    const { code } = toAppError(error);
    if (code === 'payload_too_large') {
      return sendProblem(reply, new AppError(code, { detail: `A Twilio status callback is at most ${CALLBACK_BODY_LIMIT / 1024} KiB.` }));
    }
    if (code === 'unsupported_media_type') {
      return sendProblem(reply, new AppError(code, { detail: 'Send Twilio status callbacks as application/x-www-form-urlencoded.' }));
    }
    return apiErrorHandler(error, request, reply);
  });

  app.post(
    WEBHOOK_PATH.slice('/v1'.length),
    {
      bodyLimit: CALLBACK_BODY_LIMIT,
      // Before the body is even read, so a flood costs one counter per request.
      onRequest: async (request) => {
        await limiter.consume('twilio_webhook_ip', request.ip);
      },
      schema: {
        tags: ['webhooks'],
        summary: 'Twilio status callback for an SMS or a call (form-encoded, X-Twilio-Signature)',
        consumes: ['application/x-www-form-urlencoded'],
        body: CallbackBody,
        response: { 204: NoContent, ...problems(400, 403, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const params = request.body as FormParams;
      const authToken = config.twilio.authToken;
      const url = signedUrl(config.publicUrl, request);
      if (!authToken || !isValidTwilioSignature(authToken, request.headers['x-twilio-signature'], url, params)) {
        metrics.deliveryReports.inc({ result: 'bad_signature' });
        request.log.warn({ ip: request.ip }, 'twilio callback with a bad signature');
        throw new AppError('signature_invalid');
      }
      await handleCallback({ db, clock, metrics }, request, params);
      return reply.code(204).send();
    },
  );
};
