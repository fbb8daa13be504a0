// Draws each figure of the page with plotly.js (served from our own origin): every element
// with data-chart names the JSON data block (<script type="application/json">) holding its
// figure, built on the server (sustain/monitoring/charts.py). No inline script, no eval.
"use strict";
(function () {
  function draw(element) {
    if (element.dataset.drawn || typeof Plotly === "undefined") return;
    var block = document.getElementById(element.dataset.chart);
    if (!block) return;
    var figure = JSON.parse(block.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, {
      displaylogo: false,
      responsive: true,
      modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"],
    }).then(function () {
      element.dataset.drawn = "1";
    });
  }
  function drawAll() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
