// Chengbao: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // One click, one request: a second click (or Enter) on a form already sent does nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    // Disable after the submit has started, so the clicked button's name/value is still sent.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.classList.add("sending");
      });
    }, 0);
  }, true);
  // Coming back with the browser's Back button shows the page as it was left: re-enable it.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
        if (!b.hasAttribute("data-keep-disabled")) { b.disabled = false; b.classList.remove("sending"); }
      });
    });
  });
  // The installable app: a service worker that caches the static shell only (see /sw.js). The
  // page tells it its language, so that the offline page speaks the same one.
  var worker = document.querySelector("meta[name=service-worker]");
  if (worker && "serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register(worker.content).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        var lang = document.documentElement.lang === "en" ? "en" : "zh";
        if (registration.active) registration.active.postMessage({ lang: lang });
      }).catch(function () { /* no worker: every page still works, online */ });
    });
  }
})();
