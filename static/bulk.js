// Bulk approval: "select all clean" without reloading, and a live count. Without this file the
// "select all clean" link reloads the page with those boxes ticked, and the form works the same.
(function () {
  "use strict";
  var form = document.getElementById("bulk-approve");
  if (!form) return;
  var boxes = function () { return document.querySelectorAll('input[name="items"][form="bulk-approve"]'); };
  var counters = document.querySelectorAll("[data-bulk-count]");
  var none = document.querySelector("[data-select-none]");

  function update() {
    var n = 0;
    boxes().forEach(function (b) { if (b.checked) n += 1; });
    counters.forEach(function (c) {
      c.textContent = n ? c.getAttribute("data-some").replace("%d", String(n)) : c.getAttribute("data-none");
    });
    if (none) none.hidden = n === 0;
  }

  document.addEventListener("change", function (event) {
    if (event.target instanceof HTMLInputElement && event.target.name === "items") update();
  });
  var clean = document.querySelector("[data-select-clean]");
  if (clean) {
    clean.addEventListener("click", function (event) {
      event.preventDefault();
      boxes().forEach(function (b) { if (b.hasAttribute("data-clean")) b.checked = true; });
      update();
    });
  }
  if (none) {
    none.addEventListener("click", function () {
      boxes().forEach(function (b) { b.checked = false; });
      update();
    });
  }
  window.addEventListener("pageshow", update);
  update();
})();
