// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Move focus to new content that htmx swapped in after a full-form submit, for screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var alert = event.detail.target.querySelector("[role=alert]");
    if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
  });
})();
