import pino, { type Logger, type LoggerOptions } from 'pino';

/** Strips query strings and long token-like path segments so secrets never reach the logs. */
export function redactUrl(url: string): string {
  return (url.split('?')[0] ?? '').replace(/[A-Za-z0-9_-]{32,}/g, ':secret');
}

/** What every Verity log line goes through: credentials, cookies, tokens and codes are never written. */
const safety = {
  redact: {
    paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token', '*.code', '*.answer'],
    censor: '[redacted]',
  },
  serializers: {
    req: (req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
      method: req.method,
      url: redactUrl(req.url ?? ''),
      ip: req.ip ?? req.socket?.remoteAddress,
    }),
    err: pino.stdSerializers.err,
  },
} satisfies Pick<LoggerOptions, 'redact' | 'serializers'>;

/**
 * JSON logs on stdout with the redaction rules above. Written synchronously: pino's default
 * asynchronous stream flushes at exit in a loop that retries a broken pipe for ever, so a
 * server whose stdout reader had gone (a parent that sent SIGTERM and exited) never exited.
 * A synchronous write sees EPIPE at once, and pino then stops logging.
 */
export function createLogger(level: string): Logger {
  return pino({ level, ...safety }, pino.destination({ dest: 1, sync: true }));
}

/**
 * Applies the same rules to a logger built elsewhere (a test's capture, an embedding
 * process), so a link token in a URL such as /verify-email?token=… is never logged whatever
 * logger the app is given.
 */
export function withLogSafety(logger: Logger): Logger {
  return logger.child({}, safety);
}
