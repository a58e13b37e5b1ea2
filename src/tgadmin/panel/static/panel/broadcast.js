// Broadcast form: live preview, live recipient count, progress that refreshes while running.
"use strict";
(function () {
  // The preview is rendered by the server (only Telegram's formatting re-emitted, everything
  // else escaped) with what Telegram would refuse in the text and the buttons.
  function livePreview() {
    const textarea = document.getElementById("id_text");
    const buttons = document.getElementById("id_buttons_text");
    const preview = document.getElementById("tg-preview");
    const keyboard = document.getElementById("tg-keyboard");
    const token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!textarea || !preview || !token || !preview.dataset.url) return;
    let problems = document.getElementById("tg-problems");
    if (!problems) {
      problems = document.createElement("ul");
      problems.id = "tg-problems";
      problems.className = "errorlist";
      preview.after(problems);
    }
    let timer = null;
    const render = async () => {
      const body = new URLSearchParams({
        text: textarea.value,
        buttons: buttons ? buttons.value : "",
      });
      const response = await fetch(preview.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token.value },
        body,
      });
      if (!response.ok) return;
      const data = await response.json();
      preview.innerHTML = data.html;  // safe: built by the server from escaped parts
      problems.replaceChildren(...data.problems.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      if (keyboard) {
        keyboard.replaceChildren(...data.buttons.map((row) => {
          const line = document.createElement("div");
          line.className = "tg-button-row";
          for (const button of row) {
            const cell = document.createElement("span");
            cell.className = "tg-button";
            cell.title = button.url;
            cell.textContent = button.text;
            line.append(cell);
          }
          return line;
        }));
      }
    };
    const soon = () => { clearTimeout(timer); timer = setTimeout(render, 250); };
    textarea.addEventListener("input", soon);
    if (buttons) buttons.addEventListener("input", soon);
    render();
  }

  // The recipient count of the segment as the form shows it (every audience_* field).
  function liveRecipients() {
    const counter = document.getElementById("tg-recipients");
    const form = counter && counter.closest("form");
    if (!form) return;
    const inputs = [...form.querySelectorAll("[name^=audience_]")];
    const refresh = async () => {
      const query = new URLSearchParams();
      for (const input of inputs) query.append(input.name, input.value);
      const response = await fetch(counter.dataset.url + "?" + query, { credentials: "same-origin" });
      counter.textContent = response.ok ? (await response.json()).count : "?";
    };
    for (const input of inputs) {
      input.addEventListener("change", refresh);
      input.addEventListener("input", refresh);
    }
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

  // "Start now" / "Schedule" asks first, with the number of recipients counted right now.
  function confirmStart() {
    const button = document.querySelector("input.tg-start");
    if (!button) return;
    button.addEventListener("click", (event) => {
      const counter = document.getElementById("tg-recipients");
      const count = counter ? counter.textContent.trim() : "?";
      const template = button.dataset.schedule === "1"
        ? button.dataset.confirmSchedule : button.dataset.confirm;
      if (!window.confirm(template.replace("{count}", count))) event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    confirmStart();
    livePreview();
    liveRecipients();
    liveProgress();
  });
})();
