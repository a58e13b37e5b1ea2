// Bot text form: show the built-in default for the chosen key and language.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("tg-default");
  const key = document.getElementById("id_key");
  const language = document.getElementById("id_language");
  if (!box || !key || !language) return;
  const defaults = JSON.parse(box.dataset.defaults);
  const render = () => {
    const text = (defaults[key.value] || {})[language.value];
    box.textContent = text || box.dataset.none;
  };
  key.addEventListener("change", render);
  language.addEventListener("change", render);
  render();
});
