// The draft editor (templates/reports/edit.html):
// - re-checks the text as the author types (800 ms after the last key) on the server
//   (POST /reports/<id>/check, nothing saved) and puts the problems in the side panel;
// - a click on a problem (or its button) selects its excerpt in the text box;
// - "Convert to full width" turns , ; : ? ! ( ) between Chinese characters into ，；：？！（）
//   in the text box and says how many — the author sees the change and saves it (or not).
//   The rule is workflow/checks.py's find_halfwidth, line by line.
(function () {
  "use strict";
  var panel = document.getElementById("live-problems");
  var text = document.getElementById("text");
  if (!panel || !text || !window.fetch) { return; }
  var title = document.getElementById("title");
  var head = document.getElementById("side-head");
  var tools = document.getElementById("halfwidth-tools");
  var convert = document.getElementById("to-fullwidth");
  var done = document.getElementById("fullwidth-done");
  var csrf = document.querySelector("input[name=csrf_token]");
  var DELAY = 800;
  var timer = null;
  var sent = 0;

  var CHINESE = "\\u3000-\\u303f\\u3400-\\u4dbf\\u4e00-\\u9fff\\uff01-\\uff5e\\u201c\\u201d\\u2018\\u2019";
  var HALFWIDTH = new RegExp(
    "(?<=[" + CHINESE + "])[,;:?!](?=[" + CHINESE + "]|$)" +
    "|(?<=[" + CHINESE + "])[()]|[()](?=[" + CHINESE + "])", "gmu");
  var FULL = { ",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）" };

  // Each problem with an excerpt gets a button (for the keyboard); a click anywhere on the
  // problem does the same.
  function markJumps() {
    var items = panel.querySelectorAll("li.problem");
    for (var i = 0; i < items.length; i++) {
      if (items[i].querySelector("q.excerpt") && !items[i].querySelector("button.jump-to")) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "jump-to";
        button.textContent = panel.getAttribute("data-jump") || "";
        items[i].appendChild(button);
        items[i].classList.add("jump");
      }
    }
  }

  function jumpTo(excerpt) {
    var at = text.value.indexOf(excerpt);
    if (at < 0) { return; }
    text.focus();
    text.setSelectionRange(at, at + excerpt.length);
    // Scroll the box so that the selection shows: its line times the line height.
    var line = text.value.slice(0, at).split("\n").length - 1;
    var height = parseFloat(window.getComputedStyle(text).lineHeight) || 24;
    text.scrollTop = Math.max(0, line * height - text.clientHeight / 3);
  }

  function onPick(event) {
    var item = event.target.closest ? event.target.closest("li.problem.jump") : null;
    if (!item) { return; }
    event.preventDefault();
    jumpTo(item.querySelector("q.excerpt").textContent);
  }

  function check() {
    var mine = ++sent;
    fetch(panel.getAttribute("data-check-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify({ title: title ? title.value : null, text: text.value })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
      if (!answer || mine !== sent) { return; }  // an error keeps the list; a newer check wins
      panel.innerHTML = answer.html;
      if (head && head.getAttribute("data-live")) { head.textContent = head.getAttribute("data-live"); }
      if (tools) { tools.hidden = !answer.halfwidth; }
      markJumps();
    }).catch(function () { /* offline: the saved draft's list stays */ });
  }

  function later() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(check, DELAY);
  }

  function toFullWidth() {
    var count = 0;
    text.value = text.value.replace(HALFWIDTH, function (ch) { count += 1; return FULL[ch]; });
    if (done) {
      done.textContent = (done.getAttribute("data-template") || "{num}").replace("{num}", String(count));
    }
    check();
  }

  panel.addEventListener("click", onPick);
  text.addEventListener("input", later);
  if (title) { title.addEventListener("input", later); }
  if (convert) { convert.addEventListener("click", toFullWidth); }
  markJumps();
})();
