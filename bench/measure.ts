import type { OutgoingMessage, Transport } from '../src/platform/messaging/transport.js';

/** Helpers for bench/run.ts: timing, percentiles, and a transport that reports hand-offs. */

export interface Sample {
  p50: number;
  p99: number;
  n: number;
}

export function percentiles(valuesMs: number[]): Sample {
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

/**
 * Runs `fn` up to `count` times one after another (after a few untimed warm-up runs) and
 * returns ms per run; stops early, after at least 20 runs, when `budgetSeconds` are spent,
 * so a loaded machine still finishes in time.
 */
export async function timeEach(count: number, fn: (i: number) => Promise<unknown>, budgetSeconds = 4): Promise<Sample> {
  for (let i = 0; i < Math.ceil(count / 10); i++) await fn(-1 - i);
  const deadline = performance.now() + budgetSeconds * 1000;
  const times: number[] = [];
  for (let i = 0; i < count && (i < 20 || performance.now() < deadline); i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  return percentiles(times);
}

/** Requests per second with `concurrency` callers looping for `seconds`. */
export async function throughput(seconds: number, concurrency: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await fn();
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await fn();
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Wraps a transport and resolves `next()` when a message has been handed off. */
export class HandoffProbe implements Transport {
  readonly name: string;
  private waiter: ((at: number) => void) | undefined;

  constructor(private readonly inner: Transport) {
    this.name = `probe(${inner.name})`;
  }

  async send(message: OutgoingMessage): Promise<{ providerId?: string }> {
    const result = await this.inner.send(message);
    const at = performance.now();
    this.waiter?.(at);
    this.waiter = undefined;
    return result;
  }

  /** The time (performance.now()) of the next accepted hand-off. */
  next(): Promise<number> {
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

export function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

export const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1)) + ' ms';
export const perSecond = (v: number) => `${Math.round(v)}/s`;
