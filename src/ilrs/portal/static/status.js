// Draws the status page's Plotly figures from the JSON the server embedded (no inline script: CSP script-src 'self').
(function () {
  var node = document.getElementById("figures");
  if (!node || !window.Plotly) { return; }
  var figs = JSON.parse(node.textContent);
  ["power", "charge", "links"].forEach(function (k) {
    var el = document.getElementById("fig-" + k);
    if (el && figs[k]) { Plotly.newPlot(el, figs[k].data, figs[k].layout, {responsive: true}); }
  });
})();
