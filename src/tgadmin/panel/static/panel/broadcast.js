// Broadcast form: live preview, live recipient count, progress that refreshes while running.
"use strict";
(function () {
  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function livePreview() {
    const textarea = document.getElementById("id_text");
    const preview = document.getElementById("tg-preview");
    if (!textarea || !preview) return;
    const render = () => {
      preview.innerHTML = textarea.value.split(/\n{2,}/)
        .map((p) => "<p>" + escapeHtml(p).replace(/\n/g, "<br>") + "</p>").join("");
    };
    textarea.addEventListener("input", render);
    render();
  }

  function liveRecipients() {
    const select = document.getElementById("id_audience_language");
    const counter = document.getElementById("tg-recipients");
    if (!select || !counter) return;
    const refresh = async () => {
      const url = counter.dataset.url + "?language=" + encodeURIComponent(select.value);
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) counter.textContent = (await response.json()).count;
    };
    select.addEventListener("change", refresh);
    refresh();
  }

  function liveProgress() {
    document.querySelectorAll(".tg-progress[data-url]").forEach((box) => {
      if (!box.dataset.url || box.dataset.live !== "1") return;
      const timer = setInterval(async () => {
        const response = await fetch(box.dataset.url, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        for (const part of ["sent", "failed", "blocked"]) {
          box.querySelector(".tg-" + part).style.width = data.percent[part] + "%";
        }
        for (const part of ["sent", "failed", "blocked", "pending", "total"]) {
          box.querySelector(".tg-n-" + part).textContent = data[part];
        }
        const row = box.closest("tr");
        const status = row
          ? row.querySelector("td.field-status")
          : document.querySelector(".field-status .readonly");
        if (status) status.textContent = data.status_display;
        if (!data.live) clearInterval(timer);
      }, 2000);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    livePreview();
    liveRecipients();
    liveProgress();
  });
})();
