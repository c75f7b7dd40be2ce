// The signed PDF box of a published report: polls the status endpoint every second while
// the PDF is queued or being made, moves the progress bar, then shows the download link
// (or the failure and, for admins, the retry button the server rendered). While running it
// shows the attempt's last heartbeat; a stalled attempt and a retry's time are said as such.
(function () {
  "use strict";
  var box = document.getElementById("pdf-box");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".pdf-progress");
  var progress = box.querySelector("progress");
  var stage = box.querySelector(".pdf-stage");
  var ready = box.querySelector(".pdf-ready");
  var failed = box.querySelector(".pdf-failed");
  var retrying = box.querySelector(".pdf-retrying");
  var heartbeat = box.querySelector(".pdf-heartbeat");
  var stalled = box.querySelector(".pdf-stalled");
  var labels = {};
  try { labels = JSON.parse(stage.getAttribute("data-labels") || "{}"); } catch (e) { labels = {}; }
  var misses = 0;

  function show(el, on) { if (el) { el.hidden = !on; } }

  // An ISO 8601 UTC time as the reader's local clock time.
  function clock(iso) {
    var d = iso ? new Date(iso) : null;
    if (!d || isNaN(d.getTime())) { return ""; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function say(el, attr, iso) {
    if (!el) { return; }
    var label = el.getAttribute(attr) || "";
    el.textContent = label.replace("{time}", clock(iso));
  }

  function render(s) {
    box.setAttribute("data-status", s.status || "");
    if (progress) { progress.value = s.progress || 0; progress.textContent = (s.progress || 0) + "%"; }
    if (stage) {
      var key = s.stage || (s.status === "queued" ? "queued" : "preparing");
      if (s.status === "queued" && key !== "retrying") { key = "queued"; }
      if (labels[key]) { stage.textContent = labels[key]; }
    }
    show(bar, s.status !== "ready" && s.status !== "failed");
    show(retrying, s.status === "queued" && (!!s.error || !!s.retry_at));
    if (retrying && s.retry_at) { say(retrying, "data-at-label", s.retry_at); }
    else if (retrying) { retrying.textContent = retrying.getAttribute("data-label") || retrying.textContent; }
    show(heartbeat, s.status === "running" && !!s.heartbeat_at);
    if (s.status === "running") { say(heartbeat, "data-label", s.heartbeat_at); }
    show(stalled, s.stage === "stalled" && !s.retry_at);  // with a retry time, the retry line says it all
    if (s.stage === "stalled") { say(stalled, "data-label", s.heartbeat_at); }
    show(failed, s.status === "failed");
    if (s.status === "ready") {
      var link = ready.querySelector(".pdf-link");
      if (link && s.url) { link.href = s.url; }
      var no = ready.querySelector(".pdf-archive-no");
      if (no && s.archive_no && !no.textContent.trim()) {
        no.textContent = (no.getAttribute("data-label") || "") + " " + s.archive_no;
      }
      var docno = ready.querySelector(".pdf-doc-number");
      if (docno && s.doc_number && !docno.textContent.trim()) {
        docno.textContent = (docno.getAttribute("data-label") || "") + " " + s.doc_number;
      }
      show(ready, true);
    } else if (s.status === "failed") {
      var err = failed.querySelector(".pdf-error");
      if (err) { err.textContent = s.error || ""; }
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        misses = 0;
        render(s);
        if (s.status === "queued" || s.status === "running") { setTimeout(poll, 1000); }
        else if (s.status === "failed") { setTimeout(poll, 10000); }  // an admin may retry elsewhere
      })
      .catch(function () {
        misses += 1;
        setTimeout(poll, Math.min(30000, 1000 * Math.pow(2, misses)));  // back off while offline
      });
  }

  var initial = box.getAttribute("data-status");
  if (initial === "queued" || initial === "running" || initial === "failed") { poll(); }
})();
