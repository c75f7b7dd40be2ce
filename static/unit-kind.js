// The "add a unit" form: only the kinds that may sit under the chosen parent can be picked,
// and choosing a parent picks the usual kind one level below it (a 镇 under a 区). The
// server checks the same rule; this only spares a round trip.
(function () {
  "use strict";
  var form = document.querySelector("form.unit-form[data-child-kinds]");
  if (!form) { return; }
  var allowed = {};
  try { allowed = JSON.parse(form.getAttribute("data-child-kinds") || "{}"); } catch (e) { return; }
  var parent = form.querySelector("select[name=parent_id]");
  var kind = form.querySelector("select[name=kind]");
  if (!parent || !kind) { return; }

  function update(pickUsual) {
    var kinds = allowed[parent.value] || [];
    Array.prototype.forEach.call(kind.options, function (option) {
      option.disabled = kinds.indexOf(option.value) < 0;
    });
    if (kinds.length && (pickUsual || kinds.indexOf(kind.value) < 0)) { kind.value = kinds[0]; }
  }

  parent.addEventListener("change", function () { update(true); });
  update(false);
})();
