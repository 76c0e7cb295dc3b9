// Draws the trajectory chart from /cases/<id>/trajectory.json with the locally served
// plotly.js. The page already shows the numbers as a table, so this is an enhancement only.
// This script runs before plotly.js (both deferred, in order), so the figure is fetched
// while the browser is still parsing plotly.js; drawing waits for DOMContentLoaded.
(function () {
  "use strict";
  var el = document.getElementById("chart");
  var figure = el ? fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); }) : null;
  function draw() {
    if (!el || !figure || typeof Plotly === "undefined") { return; }
    figure
      .then(function (fig) {
        return Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      })
      .then(function () {
        if (window.performance && performance.mark) { performance.mark("chart-drawn"); }
        el.setAttribute("data-ready", "1");
      })
      .catch(function () { el.textContent = "The chart could not be drawn; see the table."; });
  }
  if (document.readyState === "complete") { draw(); }
  else { document.addEventListener("DOMContentLoaded", draw); }
})();
