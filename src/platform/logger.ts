import pino, { type Logger } from 'pino';

/** Strips query strings and long token-like path segments so secrets never reach the logs. */
export function redactUrl(url: string): string {
  return (url.split('?')[0] ?? '').replace(/[A-Za-z0-9_-]{32,}/g, ':secret');
}

/** JSON logs; credentials, cookies, tokens and codes are never written. */
export function createLogger(level: string): Logger {
  return pino({
    level,
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
  });
}
