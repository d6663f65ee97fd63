// Draws the status page's Plotly figure (three charts on one time axis) from the JSON the server embedded (no inline script: CSP script-src 'self').
(function () {
  var node = document.getElementById("figures");
  if (!node || !window.Plotly) { return; }
  var figs = JSON.parse(node.textContent);
  var el = document.getElementById("fig-station");
  if (el && figs.station) { Plotly.newPlot(el, figs.station.data, figs.station.layout, {responsive: true}); }
})();
