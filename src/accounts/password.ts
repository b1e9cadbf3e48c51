import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

/** Password rules: length bounds, strength, and the argon2id cost. */
export const passwordPolicy = {
  minLength: 10,
  maxLength: 256,
  minScore: 3,
  /** zxcvbn's time grows with length; a 64-character prefix is already far beyond guessing. */
  scorePrefix: 64,
} as const;

// Algorithm.Argon2id is 2 (a const enum, so spelled out here).
export const argon2Params = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

// Built on first use: ranking the dictionaries takes about 0.2 s of CPU, which every start
// would otherwise spend before it listens.
let zxcvbn: ZxcvbnFactory | undefined;
const strength = () =>
  (zxcvbn ??= new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  }));

/** Passwords are compared in NFKC so the same characters typed on another keyboard match. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Reasons a person can act on; empty when the password is acceptable. */
export function passwordWeaknesses(password: string, personal: { username?: string; email?: string }): string[] {
  const pw = normalizePassword(password);
  const length = [...pw].length;
  if (length < passwordPolicy.minLength) return [`Use at least ${passwordPolicy.minLength} characters.`];
  if (length > passwordPolicy.maxLength) return [`Use at most ${passwordPolicy.maxLength} characters.`];
  const reasons: string[] = [];
  const lower = pw.toLowerCase();
  const emailName = personal.email?.split('@')[0]?.toLowerCase();
  if (personal.username && personal.username.length >= 3 && lower.includes(personal.username.toLowerCase())) {
    reasons.push('Do not include your username in your password.');
  }
  if (emailName && emailName.length >= 3 && lower.includes(emailName)) {
    reasons.push('Do not include your e-mail name in your password.');
  }
  const inputs = [personal.username, emailName].filter((s): s is string => !!s);
  const result = strength().check(pw.slice(0, passwordPolicy.scorePrefix), inputs);
  if (result.score < passwordPolicy.minScore) {
    if (result.feedback.warning) reasons.push(result.feedback.warning);
    reasons.push(...result.feedback.suggestions);
    if (reasons.length === 0) reasons.push('This password is easy to guess. Add more words or make it longer.');
  }
  return [...new Set(reasons)];
}

/** argon2id on the libuv thread pool, off the event loop. */
export function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), argon2Params);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, normalizePassword(password));
  } catch {
    return false;
  }
}

/** True when a stored hash is weaker than today's parameters and should be redone at sign-in. */
export function needsRehash(stored: string): boolean {
  const match = /^\$argon2(id|i|d)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!match) return true;
  const [, variant, , m, t] = match;
  return variant !== 'id' || Number(m) < argon2Params.memoryCost || Number(t) < argon2Params.timeCost;
}

// Verifying against this when a login is unknown makes both failures take the same time.
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('verity-dummy-password-for-timing');
  return dummy;
}
