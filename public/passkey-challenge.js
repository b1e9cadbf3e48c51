// Passing a challenge with a passkey (/login/verify, /account/step-up): the browser's WebAuthn
// API signs the options the page carries, and the form posts the assertion as `response`.
// Without this file (or WebAuthn) the form stays hidden and the page offers the other methods.
(() => {
  const form = document.querySelector('[data-passkey-challenge]');
  const lib = window.SimpleWebAuthnBrowser;
  if (!form || !lib || !lib.browserSupportsWebAuthn()) return;
  form.hidden = false;
  document.querySelector('[data-passkey-nojs]')?.setAttribute('hidden', '');
  const error = form.querySelector('[data-passkey-error]');
  form.addEventListener('submit', async (event) => {
    if (form.elements.response.value) return;
    event.preventDefault();
    error.hidden = true;
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const response = await lib.startAuthentication({ optionsJSON: JSON.parse(form.dataset.options) });
      form.elements.response.value = JSON.stringify(response);
      form.submit();
    } catch (err) {
      error.textContent = err && err.name === 'NotAllowedError' ? 'The passkey was not used (cancelled or timed out). Try again, or choose another method.' : 'Your browser could not use a passkey. Try again, or choose another method.';
      error.hidden = false;
      button.disabled = false;
    }
  });
})();
