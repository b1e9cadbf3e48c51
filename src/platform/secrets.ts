import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { deriveKey } from './crypto.js';

/** Keys derived from SECRET_KEY, one per purpose. */
export interface Secrets {
  /** HMAC key for one-time link tokens and codes at rest. */
  readonly tokenKey: Buffer;
  /** AES-256-GCM key for TOTP secrets. */
  readonly encryptionKey: Buffer;
  /** AES-256-GCM key for message bodies waiting in the outbox. */
  readonly outboxKey: Buffer;
  /** Signs cookies (CSRF secret, visitor ids). */
  readonly cookieSecret: string;
  /** HMAC key of CSRF tokens (which bind a form to its session). */
  readonly csrfKey: Buffer;
}

export function deriveSecrets(secretKey: string): Secrets {
  return Object.freeze({
    tokenKey: deriveKey(secretKey, 'tokens'),
    encryptionKey: deriveKey(secretKey, 'encryption'),
    outboxKey: deriveKey(secretKey, 'outbox'),
    cookieSecret: deriveKey(secretKey, 'cookies').toString('base64url'),
    csrfKey: deriveKey(secretKey, 'csrf'),
  });
}

/** SECRET_KEY from the environment, or (development only) one generated into DATA_DIR. */
export function loadSecretKey(config: Config): string {
  if (config.secretKey) return config.secretKey;
  const file = join(config.dataDir, 'secret-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}
