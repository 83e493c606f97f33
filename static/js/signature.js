/* The KIM representative's signature on a team judge's device: draw on the <canvas> with a
   finger, pen or mouse (pointer events), Clear to start again; on submit the drawing goes
   as a PNG data URL in the hidden field. Nothing drawn: the field stays empty (the typed
   name with the ticked box is the alternative the page explains).

   The online confirmation page (form[data-signature-form]) is attached when this file loads;
   the offline visit page (static/js/offline.js) draws its form itself and attaches it with
   window.MonevSignature.attach(form), which returns { value() } (the PNG data URL or ""). */
(function () {
  "use strict";

  function attach(form) {
    var canvas = form.querySelector("[data-signature-canvas]");
    var field = form.querySelector("[data-signature-value]");
    var clear = form.querySelector("[data-signature-clear]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#10243e";

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height)
      };
    }

    if (field && field.value.indexOf("data:image/png;base64,") === 0) {  // kept after a refusal
      var kept = new Image();
      kept.onload = function () { ctx.drawImage(kept, 0, 0, canvas.width, canvas.height); drawn = true; };
      kept.src = field.value;
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    });
    function stop() { drawing = false; last = null; }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);

    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      if (field) { field.value = ""; }
    });

    function value() { return drawn ? canvas.toDataURL("image/png") : ""; }

    form.addEventListener("submit", function () {
      if (field) { field.value = value(); }
    });
    return { value: value };
  }

  window.MonevSignature = { attach: attach };
  var form = document.querySelector("form[data-signature-form]");
  if (form) { attach(form); }
})();
