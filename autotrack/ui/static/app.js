// autotrack dashboard glue: draws plotly figures the server computed, refreshes the runs table,
// and follows a running run. All text reaches the page through textContent or server-escaped HTML.
"use strict";

(function () {
  const LAYOUT = {
    height: 360, margin: {l: 60, r: 20, t: 48, b: 72}, font: {size: 12},
    legend: {orientation: "h", y: -0.3}, hovermode: "closest",
    paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
  };
  const CONFIG = {responsive: true, displaylogo: false};
  const RUNS_REFRESH_MS = 5000;
  const RUN_POLL_MS = 2000;

  function readJSON(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // One div per figure, made on first draw; Plotly.react then redraws it in place.
  function drawFigures(container, figures) {
    if (!container || !figures || typeof Plotly === "undefined") return;
    figures.forEach(function (figure, index) {
      let chart = container.children[index];
      if (!chart) {
        chart = document.createElement("div");
        chart.className = "chart";
        container.appendChild(chart);
      }
      Plotly.react(chart, figure.data, Object.assign({}, LAYOUT, figure.layout), CONFIG);
    });
  }

  function runsPage() {
    const holder = document.getElementById("runs-table");
    const button = document.getElementById("compare-button");
    const selected = () => Array.from(holder.querySelectorAll("input.select-run:checked"), (box) => box.value);
    const update = () => { button.disabled = selected().length < 2; };
    holder.addEventListener("change", update);
    button.addEventListener("click", function () {
      const ids = selected();
      if (ids.length >= 2) window.location.href = "/compare?runs=" + ids.map(encodeURIComponent).join(",");
    });
    for (const id of ["status-select", "children-toggle"]) {
      const control = document.getElementById(id);
      if (control) control.addEventListener("change", () => control.form.submit());
    }
    // New runs and running ones' metrics appear without a reload; sort, filter and ticks stay.
    let last = holder.innerHTML;
    setInterval(async function () {
      if (document.hidden) return;
      let response;
      try {
        response = await fetch(holder.dataset.fragmentUrl, {cache: "no-store"});
      } catch (error) {
        return;  // the server stopped; try again later
      }
      if (!response.ok) return;
      const html = await response.text();
      if (html === last) return;
      const keep = new Set(selected());
      holder.innerHTML = html;  // rendered by the server with every value escaped
      last = holder.innerHTML;
      holder.querySelectorAll("input.select-run").forEach((box) => { box.checked = keep.has(box.value); });
      update();
    }, RUNS_REFRESH_MS);
  }

  function setField(name, text) {
    document.querySelectorAll('[data-field="' + name + '"]').forEach((element) => { element.textContent = text; });
  }

  function fillMetrics(rows) {
    const table = document.getElementById("metrics-table");
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const row of rows) {
      const line = body.insertRow();
      const head = document.createElement("th");
      head.textContent = row.key;
      line.appendChild(head);
      for (const key of ["goal", "latest", "best", "min", "max", "points"]) {
        const cell = line.insertCell();
        cell.className = key === "goal" ? "" : "num";
        cell.textContent = row[key];
      }
    }
    table.hidden = rows.length === 0;
    const none = document.getElementById("no-metrics");
    if (none) none.hidden = rows.length > 0;
  }

  function runPage() {
    drawFigures(document.getElementById("curves"), readJSON("curve-data"));
    drawFigures(document.getElementById("importance-charts"), readJSON("importance-data"));
    const page = document.getElementById("run-page");
    const url = page.dataset.liveUrl;
    if (!url) return;
    const timer = setInterval(async function () {
      let run;
      try {
        const response = await fetch(url, {cache: "no-store"});
        if (!response.ok) return;
        run = await response.json();
      } catch (error) {
        return;
      }
      drawFigures(document.getElementById("curves"), run.charts);
      fillMetrics(run.metric_rows);
      setField("status", run.status);
      document.querySelectorAll('[data-field="status"]').forEach((badge) => { badge.className = "badge " + run.status; });
      setField("end_time", run.end_time_text || "");
      setField("duration", run.duration_text);
      setField("error", run.error || "");
      if (run.error) document.querySelector('[data-field="error"]').closest("tr").hidden = false;
      if (run.status !== "running") {
        clearInterval(timer);
        const note = document.getElementById("live-note");
        note.textContent = "This run has ended: reload the page to see everything recorded at its end.";
        note.hidden = false;
      }
    }, RUN_POLL_MS);
  }

  function comparePage() {
    drawFigures(document.getElementById("metric-bars"), readJSON("bar-data"));
    drawFigures(document.getElementById("curves"), readJSON("curve-data"));
  }

  function servedModelPage() {
    drawFigures(document.getElementById("traffic-charts"), readJSON("traffic-data"));
    drawFigures(document.getElementById("distribution-charts"), readJSON("distribution-data"));
  }

  const pages = {runs: runsPage, run: runPage, compare: comparePage, "served-model": servedModelPage};
  const start = pages[document.body.dataset.page];
  if (start) start();
})();
