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
  /** When the outbox wrote the message: no copy of it can have reached a provider before. */
  queuedAt?: Date;
  /**
   * An earlier hand-off may have reached the provider although we never heard so (its answer
   * was lost, or the process died while sending). A transport whose provider does not dedupe
   * by id must look for that copy before sending again.
   */
  mayHaveBeenSent?: boolean;
}

export interface Transport {
  readonly name: string;
  /** Resolves once the provider has accepted the message; may return the provider's id. */
  send(message: OutgoingMessage): Promise<{ providerId?: string }>;
  close?(): Promise<void>;
}

/**
 * A failure the transport reports; `permanent` failures are not retried. `uncertain` means
 * the provider may have accepted the message all the same (no answer, or a 5xx after the
 * request arrived): the next attempt is told so through `mayHaveBeenSent`.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
    readonly uncertain = false,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export type Transports = Record<Channel, Transport>;
