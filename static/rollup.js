/* The roll-up's charts with Apache ECharts (vendored, static/vendor/echarts): a bar per town
   for the chosen indicator, and a line per town across the district's cycles of this kind.
   The figures come from the JSON the page embeds (#rollup-data); nothing is fetched. */
(function () {
  "use strict";
  var holder = document.getElementById("rollup-data");
  if (!holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var chosen = holder.getAttribute("data-chosen");
  var barBox = document.getElementById("bar-chart");
  var lineBox = document.getElementById("line-chart");
  var bar = barBox ? echarts.init(barBox) : null;
  var line = lineBox ? echarts.init(lineBox) : null;

  function indicator(key) {
    for (var i = 0; i < data.indicators.length; i++) { if (data.indicators[i].key === key) { return data.indicators[i]; } }
    return data.indicators[0];
  }

  function draw(key) {
    var ind = indicator(key);
    var values = data.values[ind.key].map(function (v, i) {
      var extracted = data.sources[ind.key][i] === "extracted";
      return { value: v, itemStyle: { color: extracted ? "#e0a43a" : "#2f6fb3" } };
    });
    var narrow = barBox.clientWidth < 520;
    bar.setOption({
      animation: false,
      title: { text: ind.name + "（" + ind.unit + "）", left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + " " + ind.unit; } },
      grid: { left: narrow ? 80 : 60, right: 16, top: 40, bottom: narrow ? 24 : 60, containLabel: false },
      xAxis: narrow ? { type: "value" } : { type: "category", data: data.towns, axisLabel: { interval: 0, rotate: data.towns.length > 8 ? 45 : 0 } },
      yAxis: narrow ? { type: "category", data: data.towns, inverse: true } : { type: "value" },
      dataZoom: data.towns.length > 30 ? [{ type: "slider", orient: narrow ? "vertical" : "horizontal" }] : [],
      series: [{ type: "bar", data: values, name: ind.name }]
    }, true);
    if (line) {
      line.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 60, right: 16, top: 32, bottom: 48 },
        xAxis: { type: "category", data: data.years.map(String) },
        yAxis: { type: "value", name: ind.unit, nameGap: 12, nameTextStyle: { align: "right" } },
        series: data.series[ind.key].slice(0, 50).map(function (s) {
          return { type: "line", name: s.name, data: s.values, connectNulls: false };
        })
      }, true);
    }
  }

  function figure(v) {
    return v === null || v === undefined ? "—" : Number(v.toFixed(4)).toLocaleString("en-US", { maximumFractionDigits: 4 });
  }

  /* The table across years follows the chosen indicator too (text only: textContent, never HTML). */
  function fillYears(key) {
    var ind = indicator(key);
    var summary = document.getElementById("years-summary");
    var body = document.getElementById("years-body");
    var foot = document.getElementById("years-foot");
    if (!summary || !body) { return; }
    summary.textContent = summary.getAttribute("data-template").replace("{name}", ind.name).replace("{unit}", ind.unit);
    var rows = body.querySelectorAll("tr");
    data.series[ind.key].forEach(function (s, i) {
      var cells = rows[i] ? rows[i].querySelectorAll("td.num") : [];
      s.values.forEach(function (v, j) { if (cells[j]) { cells[j].textContent = figure(v); } });
    });
    var sums = foot ? foot.querySelectorAll("td.num") : [];
    data.sums[ind.key].forEach(function (v, j) { if (sums[j]) { sums[j].textContent = figure(v); } });
  }

  draw(chosen);
  var chips = document.getElementById("indicator-chips");
  if (chips) {
    chips.addEventListener("click", function (ev) {
      var a = ev.target.closest("a[data-key]");
      if (!a) { return; }
      ev.preventDefault();
      chips.querySelectorAll("a").forEach(function (c) { c.classList.toggle("current", c === a); });
      draw(a.getAttribute("data-key"));
      fillYears(a.getAttribute("data-key"));
      history.replaceState(null, "", a.href);
    });
  }
  window.addEventListener("resize", function () { if (bar) { bar.resize(); } if (line) { line.resize(); } });
})();
