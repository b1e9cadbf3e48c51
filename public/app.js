// Progressive enhancement only: every page works without this file.
// Buttons marked data-countdown stay disabled until their time has passed.
document.querySelectorAll('[data-countdown]').forEach((el) => {
  let left = Number(el.getAttribute('data-countdown'));
  const label = el.textContent;
  const tick = () => {
    if (left <= 0) { el.disabled = false; el.textContent = label; return; }
    el.disabled = true;
    el.textContent = `${label} (${left}s)`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
});
