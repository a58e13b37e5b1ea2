// Every admin page (admin/base_site.html): behaviour that would otherwise be inline script,
// which the Content-Security-Policy forbids.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The language switch submits as soon as a language is chosen.
  for (const select of document.querySelectorAll("form.tg-language select[name=language]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
