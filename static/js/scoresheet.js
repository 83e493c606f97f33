// Score sheet: no typed score is lost to a bad connection.
//
// Every change is written to localStorage at once ("kept"), then autosaved by htmx (one
// request per criterion, queued one after another on the form so each carries the sheet
// version the previous one produced). A kept change is dropped only when the server has
// answered it: saved (2xx) or refused with a reason shown beside the field (403/404/422).
// Offline, requests are not even tried; when the "online" event comes the kept changes are
// sent. After a reload, kept changes are put back in their fields and sent, unless the sheet
// changed meanwhile (another tab): then the page asks before sending them.
(function () {
  "use strict";
  var form = document.getElementById("score-sheet");
  if (!form || form.dataset.editable !== "true" || !window.htmx) { return; }
  var KEY = "monev:sheet:" + form.dataset.sheetKey;
  var status = document.getElementById("sheet-connection");
  var finalise = document.getElementById("finalise-button");
  var inFlight = 0;
  var stale = false;

  function read() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(KEY) || "null");
      if (kept && kept.items) { return kept; }
    } catch (e) { /* unreadable: start again */ }
    return { base: null, items: {} };
  }
  function write(kept) {
    try {
      if (Object.keys(kept.items).length) {
        window.localStorage.setItem(KEY, JSON.stringify(kept));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (e) { /* storage full or disabled: the autosave still runs */ }
  }
  function version() { return document.getElementById("sheet-version").value; }
  function rowOf(el) { return el && el.closest ? el.closest("[data-criterion]") : null; }
  function fields(row) {
    return {
      value: row.querySelector("[data-field=value]"),
      comment: row.querySelector("[data-field=comment]")
    };
  }
  function valuesOf(row) {
    var f = fields(row);
    return { value: f.value.value, comment: f.comment.value };
  }
  function same(a, b) { return !!a && !!b && a.value === b.value && a.comment === b.comment; }

  function show(state) {
    var count = Object.keys(read().items).length;
    var text;
    if (stale) {
      text = status.dataset.stale;
    } else if (!navigator.onLine || state === "offline") {
      state = "offline";
      text = status.dataset.offline + (count ? " " + status.dataset.pending + " " + count + "." : "");
    } else if (state === "resending") {
      text = status.dataset.resending;
    } else if (count || inFlight) {
      state = "saving";
      text = status.dataset.saving;
    } else if (form.querySelector(".save-state[data-state=error]")) {
      // A value the server refused is still in its field: never "all changes saved".
      state = "refused";
      text = status.dataset.refused;
    } else {
      state = "saved";
      text = status.dataset.saved;
    }
    if (status.textContent !== text) { status.textContent = text; }
    status.dataset.state = stale ? "stale" : state;
    if (stale && !status.querySelector("button")) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = status.dataset.send;
      button.addEventListener("click", function () {
        var kept = read();
        kept.base = version();
        write(kept);
        stale = false;
        flush();
      });
      status.appendChild(document.createTextNode(" "));
      status.appendChild(button);
    }
    if (finalise) { finalise.disabled = !navigator.onLine || count > 0 || inFlight > 0 || stale; }
  }

  function keep(row) {
    var kept = read();
    if (!Object.keys(kept.items).length) { kept.base = version(); }
    kept.items[row.dataset.criterion] = valuesOf(row);
    write(kept);
  }

  function flush() {
    var kept = read();
    var ids = Object.keys(kept.items);
    if (!ids.length || !navigator.onLine || stale) { show(); return; }
    show("resending");
    ids.forEach(function (id) {
      var row = document.getElementById("criterion-" + id);
      if (!row) { delete kept.items[id]; return; }
      var f = fields(row);
      if (f.value.value !== kept.items[id].value) { f.value.value = kept.items[id].value; }
      if (f.comment.value !== kept.items[id].comment) { f.comment.value = kept.items[id].comment; }
      window.htmx.trigger(row, "monev:resend");
    });
    write(kept);
  }

  form.addEventListener("input", function (event) {
    var row = rowOf(event.target);
    if (!row) { return; }
    keep(row);
    show();
  });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var row = rowOf(event.detail.elt);
    if (!row || !form.contains(row)) { return; }
    if (!navigator.onLine || stale) {
      event.preventDefault();  // kept in localStorage; sent on "online"
      show("offline");
      return;
    }
    inFlight += 1;
    row.monevSent = valuesOf(row);
    show();
  });

  // Refusals (403 conflict, 404 unassigned, 409 final/late/other tab) carry a message for
  // the field's status; show it as htmx shows 422 answers.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var row = rowOf(event.detail.elt);
    if (!row || !form.contains(row)) { return; }
    var code = event.detail.xhr.status;
    if (code === 403 || code === 404 || code === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var row = rowOf(event.detail.elt);
    if (!row || !form.contains(row)) { return; }
    inFlight = Math.max(0, inFlight - 1);
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var kept = read();
    var id = row.dataset.criterion;
    var state = document.getElementById("state-" + row.dataset.criterion);
    if (event.detail.successful && state && state.dataset.version) {
      // The version this save produced; the next queued save is built after this handler.
      document.getElementById("sheet-version").value = state.dataset.version;
    }
    var answered = event.detail.successful || code === 403 || code === 404 || code === 422;
    if (answered && same(kept.items[id], row.monevSent)) {
      delete kept.items[id];
    }
    if (event.detail.successful && Object.keys(kept.items).length) {
      kept.base = version();  // what is still kept was typed on top of what was just saved
    }
    write(kept);
    show(code === 0 ? "offline" : undefined);
  });

  document.body.addEventListener("htmx:sendError", function () { show("offline"); });
  document.body.addEventListener("htmx:timeout", function () { show("offline"); });
  window.addEventListener("offline", function () { show("offline"); });
  window.addEventListener("online", flush);

  // Back after a reload or a closed tab: put kept changes back in their fields. Run once
  // htmx has processed the page (its own DOMContentLoaded handler was registered first).
  function restore() {
    var kept = read();
    var ids = Object.keys(kept.items);
    if (!ids.length) { show(); return; }
    ids.forEach(function (id) {
      var row = document.getElementById("criterion-" + id);
      if (!row) { return; }
      var f = fields(row);
      f.value.value = kept.items[id].value;
      f.comment.value = kept.items[id].comment;
      row.classList.add("kept");
    });
    if (kept.base !== null && kept.base !== version()) {
      stale = true;
      show();
    } else {
      flush();
    }
  }
  // A deferred script runs while readyState is "interactive", before DOMContentLoaded.
  if (document.readyState === "complete") {
    restore();
  } else {
    document.addEventListener("DOMContentLoaded", restore);
  }
})();
