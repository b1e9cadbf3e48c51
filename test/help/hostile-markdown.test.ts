import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMarkdown, isSafeLink } from '../../src/help/markdown.js';
import { auth, createTestApp, type TestApp } from '../helpers/app.js';
import { Visitor } from '../pages/form.js';
import { signUpAdmin } from './support.js';

/** Every tag in the HTML with its attributes, so tests look at markup, not at escaped text. */
function tags(html: string): Array<{ name: string; attrs: Record<string, string> }> {
  return [...html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>/g)].map((m) => ({
    name: m[1]!.toLowerCase(),
    attrs: Object.fromEntries([...(m[2] ?? '').matchAll(/([^\s=]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!.toLowerCase(), a[2] ?? ''])),
  }));
}

function expectHarmless(html: string): void {
  for (const tag of tags(html)) {
    expect(['script', 'iframe', 'object', 'embed', 'style', 'form', 'svg', 'math', 'base', 'meta', 'link']).not.toContain(tag.name);
    for (const [name, value] of Object.entries(tag.attrs)) {
      expect(name.startsWith('on'), `event handler ${name} on <${tag.name}>`).toBe(false);
      expect(name).not.toBe('style');
      if (name === 'href' || name === 'src') expect(isSafeLink(value), `${name}="${value}"`).toBe(true);
    }
  }
}

const hostile: Array<[string, string]> = [
  ['a script tag', '<script>alert(1)</script>'],
  ['a javascript: link', '[x](javascript:alert(1))'],
  ['a JavaScript: link in capitals with spaces', '[x]( JaVaScRiPt:alert(1) )'],
  ['an entity-encoded javascript: link', '[x](jav&#x61;script:alert(1))'],
  ['a javascript: autolink', '<javascript:alert(1)>'],
  ['a javascript: reference link', '[x][evil]\n\n[evil]: javascript:alert(1)'],
  ['a vbscript: link', '[x](vbscript:msgbox(1))'],
  ['a data: link', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['a data: image', '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
  ['a file: link', '[x](file:///etc/passwd)'],
  ['an img with onerror', '<img src=x onerror=alert(1)>'],
  ['raw HTML with an event handler', '<a href="https://example.com" onclick="alert(1)">x</a>'],
  ['an iframe', '<iframe src="https://evil.example"></iframe>'],
  ['an inline HTML span', 'Hello <span style="color:red" onmouseover="alert(1)">there</span>'],
  ['a title attribute breaking out', '[x](https://example.com "a\\" onmouseover=\\"alert(1)")'],
  ['an html block comment', '<!-- <script>alert(1)</script> -->'],
  ['a javascript: link in angle brackets', '[x](<javascript:alert(1)>)'],
  ['a decimal-entity javascript: link', '[x](&#106;avascript:alert(1))'],
  ['an entity colon', '[x](javascript&colon;alert(1))'],
  ['a tab inside the scheme', '[x](java\tscript:alert(1))'],
  ['a data: autolink', '<data:text/html,<script>alert(1)</script>>'],
  ['an svg block with onload', '<svg onload=alert(1)><circle r="1"/></svg>'],
  ['a style block', '<style>body{display:none}</style>'],
  ['a table cell with raw HTML', '| a |\n|---|\n| <img src=x onerror=alert(1)> |'],
];

describe('sanitising hostile Markdown', () => {
  it.each(hostile)('renders %s harmlessly', (_name, source) => {
    const html = renderMarkdown(source);
    expectHarmless(html);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/href="\s*(javascript|vbscript|data|file):/i);
  });

  it('shows raw HTML as text rather than dropping it silently', () => {
    expect(renderMarkdown('<script>alert(1)</script>')).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('keeps safe links: http, https, mailto and paths on this site', () => {
    const html = renderMarkdown('[a](https://example.com/x) [b](http://example.com) [c](mailto:help@example.com) [d](/account/phone) [e](#top) [f](../help)');
    expect(tags(html).filter((tag) => tag.name === 'a').map((tag) => tag.attrs.href)).toEqual([
      'https://example.com/x',
      'http://example.com',
      'mailto:help@example.com',
      '/account/phone',
      '#top',
      '../help',
    ]);
    expect(html).toContain('rel="noopener noreferrer nofollow"');
    expect(html).not.toMatch(/<a href="\/account\/phone" rel=/);
  });

  it('aligns table columns with classes, not style attributes the CSP would block', () => {
    const html = renderMarkdown('| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |');
    expectHarmless(html);
    expect(html).not.toContain('style=');
    const cells = tags(html).filter((tag) => tag.name === 'th' || tag.name === 'td');
    expect(cells.map((tag) => tag.attrs.class ?? '')).toEqual(['align-left', 'align-center', 'align-right', '', 'align-left', 'align-center', 'align-right', '']);
  });

  it.each(['javascript:alert(1)', 'JAVASCRIPT:x', 'data:text/html,x', 'vbscript:x', 'file:///x', 'java%0Ascript:x', 'foo:bar', 'a:/b'])('refuses the link %s', (url) => {
    expect(isSafeLink(url)).toBe(false);
  });

  describe('end to end: an admin saves hostile Markdown', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('stores the Markdown as written but serves and shows only harmless HTML', async () => {
      const admin = await signUpAdmin(t);
      const body = hostile.map(([, source]) => source).join('\n\n');
      const put = await t.app.inject({
        method: 'PUT',
        url: '/v1/admin/help/articles/hostile',
        headers: auth(admin.token),
        payload: { title: 'Hostile <b>title</b>', summary: 'Summary <img src=x onerror=alert(1)>', body },
      });
      expect(put.statusCode).toBe(200);
      const article = (await t.app.inject({ method: 'GET', url: '/v1/help/articles/hostile' })).json();
      expect(article.body).toBe(body + '\n');
      expectHarmless(article.html);

      const page = await new Visitor(t).get('/help/hostile');
      expect(page.statusCode).toBe(200);
      // The article as the page shows it: title and body (the page's own vote forms are not its content).
      const shown = page.body.slice(page.body.indexOf('<article'), page.body.indexOf('</article>'));
      expectHarmless(shown);
      expect(shown).toContain('Hostile &lt;b&gt;title&lt;/b&gt;');
      expect(shown).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      const list = await new Visitor(t).get('/help?q=hostile');
      expect(list.body).toContain('Summary &lt;img src=x onerror=alert(1)&gt;');
    });
  });
});
