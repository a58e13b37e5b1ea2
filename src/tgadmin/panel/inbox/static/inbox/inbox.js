// The operator inbox: the list and an open conversation refresh themselves every second
// (server-rendered fragments), forms post in the background, Enter sends a reply.
"use strict";
(function () {
  const PERIOD_MS = 1000;

  function setTitle(base, response) {
    const waiting = response.headers.get("X-Inbox-Waiting");
    if (waiting === null) return;
    document.title = (waiting !== "0" ? "(" + waiting + ") " : "") + base;
    const counter = document.getElementById("inbox-waiting-count");
    if (counter) counter.textContent = waiting;
  }

  // Fetch url every PERIOD_MS; put its HTML into target when it changed.
  function keepFresh(url, target, titleBase, afterSwap) {
    let last = target.innerHTML;
    let busy = false;
    const refresh = async () => {
      if (busy) return;
      busy = true;
      try {
        const response = await fetch(url(), {
          credentials: "same-origin",
          headers: { "X-Inbox": "1" },
        });
        if (!response.ok) return;
        setTitle(titleBase, response);
        const html = await response.text();
        if (html !== last) {
          last = html;
          afterSwap(() => { target.innerHTML = html; });
        }
      } catch (_error) {
        // The network hiccuped; the next tick tries again.
      } finally {
        busy = false;
      }
    };
    setInterval(refresh, PERIOD_MS);
    return refresh;
  }

  function inboxPage() {
    const box = document.getElementById("inbox");
    const list = document.getElementById("inbox-list");
    if (!box || !list) return;
    keepFresh(
      () => box.dataset.listUrl + window.location.search,
      list,
      box.dataset.title + " | " + document.title.split(" | ").slice(-1)[0],
      (swap) => swap(),
    );
  }

  function scrollToEnd(thread) {
    thread.scrollTop = thread.scrollHeight;
  }

  function conversationPage() {
    const box = document.getElementById("conversation");
    const thread = document.getElementById("thread");
    if (!box || !thread) return null;
    scrollToEnd(thread);
    return keepFresh(
      () => box.dataset.threadUrl,
      thread,
      document.title.replace(/^\(\d+\) /, ""),
      (swap) => {
        const atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
        swap();
        if (atEnd) scrollToEnd(thread);
      },
    );
  }

  function errorBox(form) {
    return form.querySelector(".reply-error") || document.getElementById("tools-error");
  }

  function forms(refreshThread) {
    document.querySelectorAll("form.inbox-post").forEach((form) => {
      let sending = false;
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (sending) return;
        sending = true;
        const box = errorBox(form);
        const data = new FormData(form);
        if (event.submitter && event.submitter.name) {
          data.set(event.submitter.name, event.submitter.value);
        }
        form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        try {
          const response = await fetch(form.action, {
            method: "POST",
            body: data,
            credentials: "same-origin",
            headers: { "X-Inbox": "1" },
          });
          let answer = null;
          try { answer = await response.json(); } catch (_error) { answer = null; }
          if (!answer) {
            box.textContent = response.status === 403
              ? "You may not do this." : "The panel did not answer (" + response.status + ").";
            box.classList.remove("notice");
            return;
          }
          if (!answer.ok) {
            box.textContent = answer.error;
            box.classList.remove("notice");
            return;
          }
          box.textContent = answer.notice || "";
          box.classList.toggle("notice", Boolean(answer.notice));
          if (form.dataset.reset) {
            form.querySelectorAll("textarea, input[type=file]").forEach((t) => { t.value = ""; });
          }
          const seen = form.querySelector("input[name=seen]");
          if (seen && answer.message_id) seen.value = answer.message_id;
          if (form.dataset.reset && refreshThread) refreshThread();
          else window.location.reload();
        } catch (_error) {
          box.textContent = "The panel could not be reached; nothing was lost, try again.";
          box.classList.remove("notice");
        } finally {
          sending = false;
          form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        }
      });
    });
  }

  function replyKeys() {
    const text = document.getElementById("reply-text");
    if (!text) return;
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        text.form.requestSubmit();
      }
    });
    const canned = document.getElementById("canned");
    if (canned) {
      canned.addEventListener("change", () => {
        const option = canned.selectedOptions[0];
        if (option && option.dataset.body) {
          text.value = text.value ? text.value + "\n" + option.dataset.body : option.dataset.body;
          text.focus();
        }
        canned.value = "";
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    inboxPage();
    const refreshThread = conversationPage();
    forms(refreshThread);
    replyKeys();
  });
})();
