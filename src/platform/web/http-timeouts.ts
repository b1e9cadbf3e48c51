import type { Config } from '../config.js';

/**
 * How long a client may hold a connection, as Fastify and Node's HTTP server options.
 * Without them a client that trickles a body a byte at a time holds a socket (and its
 * memory) for as long as it likes, and a few hundred such clients exhaust the server.
 */
export function httpTimeouts(config: Pick<Config, 'requestTimeoutSeconds' | 'keepAliveTimeoutSeconds'>) {
  const requestMs = config.requestTimeoutSeconds * 1000;
  // The headers of a request come well before its body; they get at most 10 s.
  const headersMs = Math.min(requestMs, 10_000);
  return {
    // The whole request (headers and body) must have arrived within this; Node answers 408.
    requestTimeout: requestMs,
    // A socket with no traffic at all is dropped after this (the handler's own time counts
    // too, so it is well above the request bound).
    connectionTimeout: Math.max(requestMs * 2, 60_000),
    // An idle kept-alive connection is closed after this; longer than the usual load
    // balancer idle timeout (60 s) so the balancer, not us, closes first.
    keepAliveTimeout: config.keepAliveTimeoutSeconds * 1000,
    http: {
      headersTimeout: headersMs,
      requestTimeout: requestMs,
      // Node checks the two bounds above on this interval (30 s by default), so a short
      // bound would otherwise be overshot by up to half a minute.
      connectionsCheckingInterval: Math.min(1000, headersMs),
    },
  };
}
