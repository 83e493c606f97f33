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
  // A closed dialog (Cancel or Escape) is emptied, so opening it again swaps its step into
  // an empty box (htmx would otherwise "settle" the old step's attributes onto the new one).
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.firstElementChild) {
      dialog.firstElementChild.replaceChildren();
    }
  }, true);
})();
