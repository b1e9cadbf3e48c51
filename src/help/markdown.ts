import MarkdownIt from 'markdown-it';

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/**
 * Links (and image sources) articles may carry: http, https, mailto and relative addresses.
 * markdown-it hands this the decoded, percent-encoded address, so entity tricks such as
 * `jav&#x61;script:` arrive here as plain `javascript:` and are refused.
 */
export function isSafeLink(url: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  if (scheme) return SAFE_SCHEMES.has(scheme[1]!.toLowerCase());
  // A relative address must not have a colon before its path: a browser could read a scheme there.
  return !/^[^/?#]*:/.test(url);
}

// html: false turns raw HTML (<script>, <img onerror>, ...) into visible text.
const md = new MarkdownIt('default', { html: false, linkify: false, typographer: false });
md.validateLink = isSafeLink;

// Links that leave the site do not hand it the opener or the referring page.
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  const href = String(token.attrGet('href') ?? '');
  if (/^(https?:)?\/\//i.test(href)) token.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

// Aligned table columns come out of markdown-it as style="text-align:..."; the strict CSP
// (style-src 'self') would block that attribute, so the alignment becomes a class instead.
for (const rule of ['th_open', 'td_open'] as const) {
  md.renderer.rules[rule] = (tokens, idx, options, _env, self) => {
    const token = tokens[idx]!;
    const align = /^text-align:(left|right|center)$/.exec(String(token.attrGet('style') ?? ''));
    if (token.attrs) token.attrs = token.attrs.filter(([name]) => name !== 'style');
    if (align) token.attrJoin('class', `align-${align[1]}`);
    return self.renderToken(tokens, idx, options);
  };
}

/** An article's Markdown as HTML that is safe to place in a page as it is. */
export function renderMarkdown(source: string): string {
  return md.render(source);
}
