// Promise Desk: the figures page's two charts, drawn with the vendored Chart.js from the JSON the page
// carries in <script id="figures-data" type="application/json"> (no inline script).
(function () {
  "use strict";
  var source = document.getElementById("figures-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#d63384"];

  function datasets(series, extra) {
    return series.map(function (one, i) {
      return Object.assign({ label: one.label, data: one.data, backgroundColor: palette[i % palette.length],
                             borderColor: palette[i % palette.length] }, extra || {});
    });
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    if (!config.data.labels.length) {
      canvas.replaceWith(Object.assign(document.createElement("p"),
        { className: "text-secondary small", textContent: "Nothing to chart in this period yet." }));
      return;
    }
    canvas.chart = new Chart(canvas, config);
  }

  // A click on a point opens the tickets behind it (the links come with the data).
  function open(links) {
    return function (event, elements) {
      if (!elements.length) { return; }
      var link = links(elements[0]);
      if (link) { window.location.assign(link); }
    };
  }

  draw("chart-weekly", {
    type: "line",
    data: { labels: data.weekly.labels, datasets: datasets(data.weekly.series, { spanGaps: true, tension: 0, clip: 8 }) },
    options: {
      animation: false,
      onClick: open(function (point) { return data.weekly.series[point.datasetIndex].links[point.index]; }),
      scales: { y: { min: 0, max: 100, title: { display: true, text: "Kept (%)" } } },
      plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + c.formattedValue + "%"; } } } }
    }
  });

  draw("chart-calibration", {
    type: "bar",
    data: { labels: data.calibration.labels, datasets: datasets(data.calibration.series) },
    options: {
      animation: false,
      onClick: open(function (bar) { return data.calibration.links[bar.index]; }),
      scales: { y: { beginAtZero: true, title: { display: true, text: "Median hours" } } }
    }
  });
})();
