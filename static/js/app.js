// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // After htmx swaps in a form that came back with errors, put the keyboard focus on the
  // first field to correct (the error summary is announced by its role="alert").
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.detail.elt && event.detail.elt.isConnected ? event.detail.elt : document;
    var invalid = root.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  });
  // A result that comes back with the page (the PDF check on /verify) takes the focus, so a
  // keyboard or screen-reader user (and a phone's scroll) lands on it, not on the page top.
  function focusResult(root) {
    var target = root.querySelector("[data-focus-on-load]");
    if (target) { target.focus({ preventScroll: true }); target.scrollIntoView({ block: "start" }); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusResult(document); });
  } else {
    focusResult(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.isConnected) { focusResult(event.detail.elt); }
  });
  // A confirmation step loaded by htmx into a <dialog> opens it as a modal; its Cancel
  // link closes it. Without JavaScript the same step is a page of its own.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target && event.detail.target.closest("dialog");
    if (dialog && !dialog.open) { dialog.showModal(); }
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-close-dialog]");
    var dialog = close && close.closest("dialog");
    if (dialog) { event.preventDefault(); dialog.close(); }
  });
  // A polled part that revalidates ([data-revalidate], the progress board) sends the ETag
  // of what it shows ([data-etag] inside it): when nothing changed the server answers 304
  // with no body, and htmx keeps what is shown (htmx-config in base.html does not swap a
  // 304). Its [data-live] line then says when it last checked, or that it stopped updating.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var view = elt && elt.hasAttribute("data-revalidate") && elt.querySelector("[data-etag]");
    if (view) { event.detail.headers["If-None-Match"] = view.getAttribute("data-etag"); }
  });
  function clock(view) {
    var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    try {
      options.timeZone = view.getAttribute("data-timezone") || undefined;
      return new Intl.DateTimeFormat(document.documentElement.lang, options).format(new Date());
    } catch (error) {
      delete options.timeZone;
      return new Date().toLocaleTimeString(document.documentElement.lang, options);
    }
  }
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var view = elt && elt.hasAttribute("data-revalidate") && elt.querySelector("[data-etag]");
    var live = view && view.querySelector("[data-live]");
    var checked = view && view.querySelector("[data-checked]");
    if (!live || !checked) { return; }
    var ok = event.detail.successful && event.detail.xhr && event.detail.xhr.status > 0;
    live.textContent = live.getAttribute(ok ? "data-live-text" : "data-offline-text");
    live.classList.toggle("live-offline", !ok);
    if (ok) {
      checked.textContent = " · " + checked.getAttribute("data-checked-text").replace(
        "%(time)s", clock(view) + " " + checked.getAttribute("data-tz-label"));
    }
  });
  // A closed dialog (Cancel or Escape) is emptied, so opening it again swaps its step into
  // an empty box (htmx would otherwise "settle" the old step's attributes onto the new one).
  // Chromium fires "close" with the next frame: a dialog opened again before that (a quick
  // Cancel then Finalise on a busy phone) already holds its new step and keeps it.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog instanceof HTMLDialogElement && !dialog.open && dialog.firstElementChild) {
      dialog.firstElementChild.replaceChildren();
    }
  }, true);
  // A date input's value written the way every page writes a date ("14 Mar 2022, 14.00
  // WITA") in its [data-date-echo] line (templates/macros/forms.html, date_echo), whatever
  // order the browser's own picker shows.
  function echoDate(input) {
    var echo = input.id && document.querySelector('[data-date-echo="' + input.id + '"]');
    if (!echo) { return; }
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(input.value);
    if (!m) { echo.textContent = ""; return; }
    var months = echo.getAttribute("data-months").split(",");
    var text = parseInt(m[3], 10) + " " + months[parseInt(m[2], 10) - 1] + " " + m[1];
    if (m[4]) {
      text += ", " + m[4] + echo.getAttribute("data-time-sep") + m[5];
      if (echo.getAttribute("data-zone")) { text += " " + echo.getAttribute("data-zone"); }
    }
    echo.textContent = echo.getAttribute("data-template").replace("{}", text);
  }
  function echoAll(root) {
    root.querySelectorAll("[data-date-echo]").forEach(function (echo) {
      var input = document.getElementById(echo.getAttribute("data-date-echo"));
      if (input) { echoDate(input); }
    });
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.matches && event.target.matches("input[type=date], input[type=datetime-local]")) {
        echoDate(event.target);
      }
    });
  });
  document.addEventListener("htmx:afterSettle", function () { echoAll(document); });
  echoAll(document);
})();
