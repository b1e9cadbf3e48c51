import { constantTimeEqual, hmac } from '../platform/crypto.js';

/**
 * Each ticket has its own reply address, support+{id}.{token}@domain: the id (32 hex digits)
 * names the ticket, the token (an HMAC of the id, 96 bits) proves the address came from one
 * of our e-mails. Only lowercase letters and digits, since some mail systems fold case.
 */

/** RFC 4648 base32, lowercase, no padding. */
function base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function replyToken(key: Buffer, caseId: string): string {
  return base32(hmac(key, 'support_reply', caseId.toLowerCase()).subarray(0, 12));
}

/** The address a ticket's e-mails carry in Reply-To. */
export function replyAddressFor(key: Buffer, base: string, caseId: string): string {
  const [local, domain] = base.split('@') as [string, string];
  return `${local}+${caseId.replace(/-/g, '').toLowerCase()}.${replyToken(key, caseId)}@${domain}`;
}

/**
 * The ticket an inbound message was sent to: the first recipient in the tagged form of our
 * base address whose token matches (compared in constant time). Undefined when none does.
 */
export function ticketFromRecipients(key: Buffer, base: string, recipients: string): string | undefined {
  const [local, domain] = base.toLowerCase().split('@') as [string, string];
  const tagged = /([a-z0-9._-]+)\+([0-9a-f]{32})\.([a-z2-7]{20})@([a-z0-9.-]+)/gi;
  for (const match of recipients.slice(0, 4000).matchAll(tagged)) {
    const [, l, hex, token, d] = match as unknown as [string, string, string, string, string];
    if (l.toLowerCase() !== local || d.toLowerCase() !== domain) continue;
    const h = hex.toLowerCase();
    const caseId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    if (constantTimeEqual(Buffer.from(token.toLowerCase()), Buffer.from(replyToken(key, caseId)))) return caseId;
  }
  return undefined;
}

/** The line our ticket e-mails start with; a reply's text is what the member wrote above it. */
export const REPLY_MARKER = '-- Write your reply above this line --';

/**
 * The new text of a reply by e-mail, without the quoted history mail programs add: from our
 * marker line, an "On … wrote:" attribution (Gmail, Apple Mail, Thunderbird), an Outlook
 * "Original Message" or From:/Sent: header block, on; and any remaining "> " lines and a
 * "-- " signature.
 */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1] ?? '';
    const trimmed = line.trim();
    if (trimmed.includes(REPLY_MARKER)) break;
    if (/^On\b.*\bwrote:$/i.test(trimmed)) break;
    // Attributions that mail programs wrap over two lines.
    if (/^On\b/i.test(trimmed) && /\bwrote:$/i.test(next.trim())) break;
    if (/^-{2,}\s*Original Message\s*-{2,}$/i.test(trimmed)) break;
    if (/^_{10,}$/.test(trimmed) && /^From:/i.test(next.trim())) break;
    if (/^From:\s/i.test(trimmed) && /^(Sent|Date|To):\s/i.test(next.trim())) break;
    if (line === '-- ') break;
    if (/^>/.test(trimmed)) continue;
    kept.push(line);
  }
  return kept.join('\n').trim();
}
