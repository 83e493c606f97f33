/* Visit photos on the judge's sheet: when a photo is taken (or chosen), stamp it with this
   device's clock (ISO 8601 with the offset) and a fresh key; on submit, add the device's
   position when the judge allows it (the browser asks), then send. Without this script the
   form still works: the time is when the page was loaded, and there is no position. */
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function isoWithOffset(d) {
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    var abs = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  function freshKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return pad(b.toString(16)); }).join("");
  }

  function setup(form) {
    var file = form.querySelector('input[type="file"]');
    var status = form.querySelector("[data-photo-status]");
    var sending = false;
    file.addEventListener("change", function () {
      form.elements.taken_at.value = isoWithOffset(new Date());
      form.elements.client_key.value = freshKey();
    });
    form.addEventListener("submit", function (event) {
      if (sending) { return; }
      event.preventDefault();
      if (!form.elements.client_key.value) { form.elements.client_key.value = freshKey(); }
      if (!file.value) { form.elements.taken_at.value = isoWithOffset(new Date()); }
      var send = function () { sending = true; form.submit(); };
      if (!("geolocation" in navigator)) { send(); return; }
      if (status) { status.textContent = form.dataset.locating; }
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.latitude.value = pos.coords.latitude.toFixed(6);
        form.elements.longitude.value = pos.coords.longitude.toFixed(6);
        form.elements.accuracy.value = Math.round(pos.coords.accuracy);
        send();
      }, function () {
        if (status) { status.textContent = form.dataset.noPosition; }
        send();
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  document.querySelectorAll("form[data-photo-form]").forEach(setup);
})();
