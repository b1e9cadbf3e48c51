// Progressive enhancement only: every page works without this file.
// Buttons marked data-countdown stay disabled until their time has passed. With
// data-countdown-field, the wait belongs to what that field holds: editing it ends the wait.
document.querySelectorAll('[data-countdown]').forEach((el) => {
  let left = Number(el.getAttribute('data-countdown'));
  const label = el.textContent;
  const field = el.getAttribute('data-countdown-field');
  const input = field && el.form ? el.form.elements.namedItem(field) : null;
  if (input) {
    input.addEventListener('input', () => {
      left = 0;
      el.disabled = false;
      el.textContent = label;
    }, { once: true });
  }
  const tick = () => {
    if (left <= 0) { el.disabled = false; el.textContent = label; return; }
    el.disabled = true;
    el.textContent = `${label} (${left}s)`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
});
