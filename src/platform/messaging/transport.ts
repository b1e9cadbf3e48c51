import type { Channel } from '../db/schema.js';

/** A message as handed to a transport. `id` doubles as the idempotency key. */
export interface OutgoingMessage {
  id: string;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  html: string | null;
  /** The Reply-To address, when replies go somewhere other than the sender. */
  replyTo?: string;
}

export interface Transport {
  readonly name: string;
  /** Resolves once the provider has accepted the message; may return the provider's id. */
  send(message: OutgoingMessage): Promise<{ providerId?: string }>;
  close?(): Promise<void>;
}

/** A failure the transport reports; `permanent` failures are not retried. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export type Transports = Record<Channel, Transport>;
