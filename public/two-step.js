// Adding a passkey: the one two-step step that needs the browser's WebAuthn API. The page
// works without this file; the form stays hidden and a sentence says why.
(() => {
  const form = document.querySelector('[data-passkey-add]');
  const lib = window.SimpleWebAuthnBrowser;
  if (!form || !lib || !lib.browserSupportsWebAuthn()) return;
  form.hidden = false;
  document.querySelector('[data-passkey-nojs]')?.setAttribute('hidden', '');
  const error = form.querySelector('[data-passkey-error]');
  const show = (message) => { error.textContent = message; error.hidden = false; };
  const post = async (url, body) => {
    const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(json.detail || 'Something went wrong. Please try again.');
    return json;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const { setupId, options } = await post('/v1/me/two-step/passkeys/options');
      const response = await lib.startRegistration({ optionsJSON: options });
      await post('/v1/me/two-step/passkeys', { setupId, name: form.elements.name.value.trim() || 'Passkey', response });
      window.location.assign('/account/security?twostep=passkey#two-step');
    } catch (err) {
      show(err && err.name === 'NotAllowedError' ? 'The passkey was not created (cancelled or timed out).' : err.message);
    } finally {
      button.disabled = false;
    }
  });
})();
