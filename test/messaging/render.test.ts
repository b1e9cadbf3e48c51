import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../src/platform/messaging/render.js';

const data = { username: `Tom & "Jerry" <b>O'Neil</b>`, link: 'https://verity.test/verify-email?token=a&b=<c>' };

describe('message templates', () => {
  it('escapes data in the HTML body and leaves it as is in the subject and text', () => {
    const mail = renderMessage('verify-email', 'email', data);
    expect(mail.subject).toBe('Confirm your e-mail address for Verity');
    expect(mail.text).toContain(`Hello Tom & "Jerry" <b>O'Neil</b>,`);
    expect(mail.text).toContain('https://verity.test/verify-email?token=a&b=<c>');
    expect(mail.text).not.toContain('&amp;');
    expect(mail.html).toContain('Hello Tom &amp; &quot;Jerry&quot; &lt;b&gt;O&#39;Neil&lt;/b&gt;,');
    expect(mail.html).toContain('href="https://verity.test/verify-email?token=a&amp;b=&lt;c&gt;"');
    expect(mail.html).not.toContain('<b>');
  });

  it('renders the foundation e-mail templates with a one-line subject', () => {
    for (const template of ['verify-email', 'account-closed', 'password-changed']) {
      const mail = renderMessage(template, 'email', { username: 'ana', link: 'https://verity.test/x' });
      expect(mail.subject, template).toMatch(/^[^\n]+$/);
      expect(mail.text.length, template).toBeGreaterThan(20);
      expect(mail.html, template).toMatch(/<p>/);
    }
  });

  it('refuses a template name that could leave the templates folder', () => {
    expect(() => renderMessage('../pages/layout', 'email', data)).toThrow(/bad template name/);
    expect(() => renderMessage('Verify-Email', 'email', data)).toThrow(/bad template name/);
  });

  it('fails for a channel the template has no text for, so the enqueuing change rolls back', () => {
    expect(() => renderMessage('verify-email', 'sms', data)).toThrow();
  });
});
