import type { Logger } from 'pino';

export interface ShutdownOptions {
  log: Logger;
  /** After this long the process exits (code 1) whatever a close step is waiting for. */
  timeoutMs: number;
  /** Close steps, run in order; one that fails is logged and the next still runs. */
  steps: ReadonlyArray<readonly [name: string, close: () => Promise<unknown> | unknown]>;
}

/** Logging must never be what stops a shutdown: with stdout gone, a write may throw. */
function safely(write: () => void): void {
  try {
    write();
  } catch {
    // Nowhere left to report it.
  }
}

/**
 * SIGTERM and SIGINT close the server's parts in order and exit 0. A hard timer bounds the
 * whole: a parent that sends SIGTERM and exits at once leaves stdout without a reader, and
 * a step that waits on it (or on a hung connection) must not keep the process, and the
 * database folder it holds, alive. The timer is unref'd so it never keeps a finished
 * process waiting.
 */
export function installShutdown(options: ShutdownOptions): void {
  // A reader that went away turns writes into EPIPE errors; they are not worth dying for
  // before the database is closed.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const hard = setTimeout(() => {
      safely(() => options.log.error({ signal, timeoutMs: options.timeoutMs }, 'shutdown took too long; exiting'));
      process.exit(1);
    }, options.timeoutMs);
    hard.unref();
    safely(() => options.log.info({ signal }, 'shutting down'));
    void (async () => {
      let failed = false;
      for (const [name, close] of options.steps) {
        try {
          await close();
        } catch (err) {
          failed = true;
          safely(() => options.log.error({ err, step: name }, 'shutdown step failed'));
        }
      }
      process.exit(failed ? 1 : 0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Closes the HTTP server. Fastify closes the connections idle at that moment; a request
 * already in its handler finishes and leaves its connection kept alive, which would hold
 * the close for the whole keep-alive timeout. So idle connections are reaped until done.
 */
export async function closeHttp(app: { close(): Promise<unknown>; server: { closeIdleConnections(): void } }): Promise<void> {
  const reap = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearInterval(reap);
  }
}
