// Upload forms of the entry workspace: refuse a file over the limit before sending it, and
// show the upload's progress. Without this file (or without htmx) the forms post normally.
(function () {
  "use strict";

  function uploadForm(el) {
    return el && el.closest ? el.closest("form[data-upload]") : null;
  }

  // The size limit, checked as soon as a file is chosen (the server checks it again).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    input.setCustomValidity("");
    var file = input.files && input.files[0];
    if (!file) { return; }
    var isVideo = file.type === "video/mp4" || /\.mp4$/i.test(file.name);
    var limit = Number(isVideo && input.dataset.maxVideoBytes ? input.dataset.maxVideoBytes : input.dataset.maxBytes);
    if (file.size > limit) {
      input.setCustomValidity(input.dataset.tooLarge || "");
      input.reportValidity();
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) { return; }
    var box = form.querySelector(".upload-progress");
    if (!box) { return; }
    box.hidden = false;
    box.querySelector("progress").value = 0;
    var text = box.querySelector("[data-uploading]");
    text.textContent = text.dataset.uploading;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = uploadForm(event.target);
    if (!form || !event.detail.lengthComputable) { return; }
    var box = form.querySelector(".upload-progress");
    if (!box) { return; }
    var percent = Math.floor((event.detail.loaded / event.detail.total) * 100);
    box.querySelector("progress").value = percent;
    var text = box.querySelector("[data-uploading]");
    text.textContent = text.dataset.uploading + " " + percent + " %";
  });

  // A refusal the server could not answer in place (e.g. the connection was cut): say so.
  document.addEventListener("htmx:sendError", function (event) {
    var form = uploadForm(event.detail.elt);
    if (!form) { return; }
    var box = form.querySelector(".upload-progress");
    if (box) { box.hidden = true; }
  });
})();
