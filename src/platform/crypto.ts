import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** Randomness behind an interface so tests can make codes predictable where they need to. */
export interface Random {
  bytes(n: number): Buffer;
  /** A uniformly random integer in [0, max). */
  int(max: number): number;
}

export const secureRandom: Random = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};

/** An opaque bearer secret of 256 bits, URL-safe. */
export function randomToken(random: Random = secureRandom, bytes = 32): string {
  return random.bytes(bytes).toString('base64url');
}

/** A numeric one-time code of `digits` digits, each drawn uniformly from a CSPRNG. */
export function randomDigits(random: Random, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += String(random.int(10));
  return out;
}

export function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Keyed hash for one-time secrets at rest (codes, link tokens). A database leak alone
 * does not let anyone brute-force six-digit codes without the server key.
 */
export function hmac(key: Buffer, ...parts: string[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part).update('\0');
  return mac.digest();
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Derives independent sub-keys from SECRET_KEY so one purpose never reuses another's key. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`verity:${purpose}`).digest();
}

/** AES-256-GCM; output is iv.tag.ciphertext in base64url. Used for TOTP secrets. */
export function encrypt(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

export function decrypt(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !body) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
