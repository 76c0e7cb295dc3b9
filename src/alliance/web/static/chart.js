// Draws the trajectory chart from /cases/<id>/trajectory.json with the locally served
// plotly.js. The page already shows the numbers as a table, so this is an enhancement only.
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("chart");
    if (!el || typeof Plotly === "undefined") { return; }
    fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (fig) {
        return Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      })
      .then(function () { el.setAttribute("data-ready", "1"); })
      .catch(function () { el.textContent = "The chart could not be drawn; see the table."; });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
