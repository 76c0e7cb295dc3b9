// The trajectory chart is drawn on the server (inline SVG in the page), so it shows with the
// first paint and without script. This script only marks that moment for the page-weight
// benchmark and offers the interactive chart (zoom, hover): on request it loads the locally
// served plotly.js (never on page load: 1.2 MB) and the figure from data-src, and draws it
// over the SVG.
(function () {
  "use strict";
  var el = document.getElementById("chart");
  if (!el) { return; }
  window.requestAnimationFrame(function () {
    if (window.performance && performance.mark) { performance.mark("chart-drawn"); }
    el.setAttribute("data-ready", "1");
  });
  if (!el.querySelector("svg")) { return; }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "link chart-interactive";
  button.textContent = "Interactive chart (zoom, hover)";
  el.parentNode.insertBefore(button, el);
  function plotly() {
    return new Promise(function (resolve, reject) {
      if (typeof Plotly !== "undefined") { resolve(); return; }
      var script = document.createElement("script");
      script.src = el.getAttribute("data-plotly");
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  button.addEventListener("click", function () {
    var drawn = el.innerHTML;
    button.disabled = true;
    button.textContent = "Loading the interactive chart…";
    var figure = fetch(el.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
    Promise.all([figure, plotly()])
      .then(function (got) {
        var fig = got[0];
        el.textContent = "";
        return Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
      })
      .then(function () {
        el.setAttribute("data-interactive", "1");
        button.remove();
      })
      .catch(function () {
        el.innerHTML = drawn;
        button.textContent = "The interactive chart could not be loaded; the chart above stays.";
      });
  });
})();
