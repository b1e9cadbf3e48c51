import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';
import { templatesDir } from '../paths.js';
import type { Channel } from '../db/schema.js';

const messagesDir = join(templatesDir, 'messages');
// Plain text and SMS bodies must not be HTML-escaped; HTML bodies must be.
const text = new Eta({ views: messagesDir, autoEscape: false, autoTrim: false, cache: true });
const html = new Eta({ views: messagesDir, autoEscape: true, cache: true });

export interface RenderedMessage {
  subject: string | null;
  text: string;
  html: string | null;
}

/** Renders templates/messages/<template>/{subject,text,html,sms,voice}.eta for one channel. */
export function renderMessage(template: string, channel: Channel, data: Record<string, unknown>): RenderedMessage {
  if (!/^[a-z0-9-]+$/.test(template)) throw new Error(`bad template name ${template}`);
  const file = (part: string) => `./${template}/${part}`;
  if (channel === 'email') {
    return {
      subject: text.render(file('subject'), data).trim(),
      text: text.render(file('text'), data),
      html: existsSync(join(messagesDir, template, 'html.eta')) ? html.render(file('html'), data) : null,
    };
  }
  return { subject: null, text: text.render(file(channel), data).trim(), html: null };
}
