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
})();
