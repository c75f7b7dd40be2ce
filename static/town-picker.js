// The town filter of the report list: as one types, up to 20 matching towns in one's scope are
// offered (GET /reports/towns?q=…); picking one filters by that town's id. Without this file
// the typed text filters by name (any town whose name contains it), which works the same.
(function () {
  "use strict";
  var input = document.querySelector("input[data-picker]");
  if (!input) return;
  var list = document.getElementById(input.getAttribute("list"));
  var form = input.form;
  var found = [];
  var timer = null;

  function hiddenId() {
    var hidden = form.querySelector('input[name="org_unit_id"]');
    if (!hidden) {
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "org_unit_id";
      input.parentNode.appendChild(hidden);
    }
    return hidden;
  }

  function offer(items) {
    found = items;
    list.replaceChildren.apply(list, items.map(function (unit) {
      var option = document.createElement("option");
      option.value = unit.name;
      if (unit.parent) option.label = unit.name + " · " + unit.parent;
      return option;
    }));
  }

  function lookUp() {
    var url = input.getAttribute("data-picker") + "?q=" + encodeURIComponent(input.value.trim());
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) { offer(body.items || []); })
      .catch(function () { offer([]); });
  }

  input.addEventListener("input", function () {
    var same = found.filter(function (unit) { return unit.name === input.value; });
    // One town of that exact name: filter by its id; otherwise by the typed name.
    hiddenId().value = same.length === 1 ? String(same[0].id) : "";
    clearTimeout(timer);
    timer = setTimeout(lookUp, 200);
  });
  form.addEventListener("submit", function () {
    var hidden = form.querySelector('input[name="org_unit_id"]');
    if (hidden && !hidden.value) hidden.disabled = true;
  });
})();
