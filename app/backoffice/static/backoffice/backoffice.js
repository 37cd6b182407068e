// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Put the keyboard focus on a form's error summary, so screen readers read it first.
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();
  // The dashboard's custom period: its dates show only when "Custom" is chosen.
  const custom = document.querySelector("[data-custom-period]");
  if (custom) {
    const toggle = document.querySelector("[data-show-custom]");
    if (toggle && !custom.dataset.open) {
      custom.hidden = true;
      toggle.addEventListener("click", (event) => { event.preventDefault(); custom.hidden = false; custom.querySelector("input").focus(); });
    }
  }
});
