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

  // -- learning curves: log scale, smoothing, x as step or wall time (kept for the next page) ------
  const CURVE_OPTIONS_KEY = "autotrack.curve-options";
  let curveOptions = {log: false, smooth: 0, x: "step"};
  try {
    curveOptions = Object.assign(curveOptions, JSON.parse(window.localStorage.getItem(CURVE_OPTIONS_KEY) || "{}"));
  } catch (error) { /* private mode, or a value from another version: the defaults */ }
  let curveFigures = null;

  // TensorBoard's smoothing: an exponential moving average, debiased for its first points.
  function smoothed(values, weight) {
    let last = 0, count = 0;
    return values.map((value) => {
      if (value === null || value === undefined || !isFinite(value)) return null;
      last = last * weight + (1 - weight) * value;
      count += 1;
      return last / (1 - Math.pow(weight, count));
    });
  }

  function withCurveOptions(figure) {
    const wall = curveOptions.x === "wall" && Array.isArray(figure.wall);
    const data = [];
    figure.data.forEach((trace, index) => {
      const x = wall ? figure.wall[index] : trace.x;
      if (curveOptions.smooth > 0) {
        data.push(Object.assign({}, trace, {x: x, opacity: 0.25, showlegend: false, hoverinfo: "skip",
                                             name: trace.name + " (raw)"}));
        data.push(Object.assign({}, trace, {x: x, y: smoothed(trace.y, curveOptions.smooth)}));
      } else {
        data.push(Object.assign({}, trace, {x: x}));
      }
    });
    const layout = Object.assign({}, figure.layout, {
      yaxis: Object.assign({}, figure.layout.yaxis || {}, {type: curveOptions.log ? "log" : "linear"}),
    });
    if (wall) layout.xaxis = {title: {text: "seconds since the run started"}};
    return {data: data, layout: layout};
  }

  function drawCurves(figures) {
    curveFigures = figures || curveFigures;
    if (!curveFigures) return;
    drawFigures(document.getElementById("curves"), curveFigures.map(withCurveOptions));
  }

  function curveControls() {
    const log = document.getElementById("opt-log");
    if (!log) return;
    const smooth = document.getElementById("opt-smooth");
    const shown = document.getElementById("opt-smooth-value");
    const x = document.getElementById("opt-x");
    log.checked = !!curveOptions.log;
    smooth.value = curveOptions.smooth;
    shown.textContent = curveOptions.smooth;
    x.value = curveOptions.x;
    const timed = (curveFigures || []).some((figure) => Array.isArray(figure.wall));
    x.querySelector('option[value="wall"]').disabled = !timed;
    const changed = () => {
      curveOptions = {log: log.checked, smooth: parseFloat(smooth.value) || 0, x: x.value};
      shown.textContent = curveOptions.smooth;
      try { window.localStorage.setItem(CURVE_OPTIONS_KEY, JSON.stringify(curveOptions)); } catch (error) { /* kept for this page */ }
      drawCurves();
    };
    for (const control of [log, smooth, x]) control.addEventListener("input", changed);
    x.addEventListener("change", changed);
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
    drawCurves(readJSON("curve-data"));
    curveControls();
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
      drawCurves(run.charts);
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
    drawCurves(readJSON("curve-data"));
    curveControls();
  }

  function servedModelPage() {
    drawFigures(document.getElementById("traffic-charts"), readJSON("traffic-data"));
    drawFigures(document.getElementById("distribution-charts"), readJSON("distribution-data"));
  }


  // -- explore: parallel coordinates (params → metric) and a scatter, both filtering the table ----
  // plotly's basic bundle has no parallel coordinates (its full bundle, which has, takes this
  // machine 1.3 s to compile on every page load): they are drawn here in SVG.
  const SVG = "http://www.w3.org/2000/svg";

  function svgElement(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes || {})) element.setAttribute(key, value);
    if (parent) parent.appendChild(element);
    return element;
  }

  function shortNumber(value) {
    if (typeof value !== "number" || !isFinite(value)) return String(value);
    return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(2) : String(+value.toPrecision(4));
  }

  function explorePage() {
    const data = readJSON("explore-data");
    const holder = document.getElementById("parcoords");
    if (!data || !holder || !data.runs.length || !data.params.length) return;
    const TOP = 36, HEIGHT = 260, MISSING = TOP + HEIGHT + 22, LEFT = 70, RIGHT = 90;
    const width = Math.max(640, holder.clientWidth || 900);
    const metricKey = data.metric;

    function dimension(key, get, isMetric) {
      const values = data.runs.map(get);
      const present = values.filter((value) => value !== undefined && value !== null && value !== "");
      const numeric = present.length > 0 && present.every((value) => typeof value === "number");
      const dim = {key: key, get: get, numeric: numeric, metric: isMetric};
      if (numeric) {
        dim.lo = Math.min(...present);
        dim.hi = Math.max(...present);
        // A param searched over decades (C = 0.01 ... 100) is read on a log axis, as it was searched.
        dim.log = !isMetric && dim.lo > 0 && dim.hi / dim.lo >= 100;
        const at = dim.log ? Math.log10 : (value) => value;
        const span = at(dim.hi) - at(dim.lo) || 1;
        const lo = dim.hi === dim.lo ? at(dim.lo) - 0.5 : at(dim.lo);
        dim.position = (value) => TOP + HEIGHT - ((at(value) - lo) / span) * HEIGHT;
      } else {
        dim.categories = Array.from(new Set(present.map(String))).sort();
        const last = Math.max(1, dim.categories.length - 1);
        dim.position = (value) => dim.categories.length === 1 ? TOP + HEIGHT / 2
          : TOP + HEIGHT - (dim.categories.indexOf(String(value)) / last) * HEIGHT;
      }
      dim.y = (run) => {
        const value = get(run);
        return value === undefined || value === null || value === "" ? MISSING : dim.position(value);
      };
      return dim;
    }

    const dims = data.params.map((key) => dimension(key, (run) => run.params[key], false))
      .concat(metricKey ? [dimension(metricKey, (run) => run.metrics[metricKey], true)] : []);
    const gap = (width - LEFT - RIGHT) / Math.max(1, dims.length - 1);
    dims.forEach((dim, index) => { dim.x = LEFT + index * gap; });
    const metricDim = dims.find((dim) => dim.metric && dim.numeric);

    // Colour: the metric from its worst (grey-blue) to its best (orange), by its goal.
    function colour(run) {
      if (!metricDim) return "#1c7ed6";
      const value = metricDim.get(run);
      if (typeof value !== "number") return "#adb5bd";
      let t = metricDim.hi === metricDim.lo ? 1 : (value - metricDim.lo) / (metricDim.hi - metricDim.lo);
      if (data.goal === "min") t = 1 - t;
      const mix = (a, b) => Math.round(a + (b - a) * t);
      return "rgb(" + mix(66, 232) + "," + mix(99, 89) + "," + mix(235, 12) + ")";
    }

    const svg = svgElement("svg", {width: width, height: MISSING + 20, class: "parcoords-svg"}, holder);
    const lines = svgElement("g", {class: "lines"}, svg);
    const paths = data.runs.map((run) => {
      const d = dims.map((dim, index) => (index ? "L" : "M") + dim.x.toFixed(1) + " " + dim.y(run).toFixed(1)).join(" ");
      const path = svgElement("path", {d: d, stroke: colour(run), "data-run-id": run.id, class: "line"}, lines);
      const title = svgElement("title", {}, path);
      title.textContent = run.id.slice(0, 8) + " " + run.name;
      return path;
    });

    const brushes = new Map();  // dim index -> [top, bottom] in pixels
    let scatterSelected = null;  // a Set of run ids, or null: no selection
    const rows = new Map(Array.from(document.querySelectorAll("#explore-table tbody tr"), (row) => [row.dataset.runId, row]));
    const count = document.getElementById("explore-count");

    function update() {
      let active = 0;
      data.runs.forEach((run, index) => {
        let keep = scatterSelected === null || scatterSelected.has(run.id);
        for (const [dimIndex, range] of brushes) {
          const y = dims[dimIndex].y(run);
          if (y < range[0] || y > range[1]) { keep = false; break; }
        }
        paths[index].classList.toggle("dim", !keep);
        const row = rows.get(run.id);
        if (row) row.hidden = !keep;
        active += keep ? 1 : 0;
      });
      count.textContent = active + " of " + data.runs.length;
    }

    dims.forEach((dim, index) => {
      const axis = svgElement("g", {class: "axis" + (dim.metric ? " metric" : "") + (dim.log ? " log" : ""),
                                    "data-key": dim.key}, svg);
      svgElement("line", {x1: dim.x, x2: dim.x, y1: TOP, y2: TOP + HEIGHT}, axis);
      const name = svgElement("text", {x: dim.x, y: TOP - 20, class: "axis-name"}, axis);
      name.textContent = dim.key + (dim.log ? " (log)" : "");
      const ticks = dim.numeric ? [[dim.hi, "axis-max"], [dim.lo, "axis-min"]]
        : dim.categories.filter((_, i) => dim.categories.length <= 12 || i % Math.ceil(dim.categories.length / 12) === 0)
          .map((category) => [category, "axis-category"]);
      for (const [value, kind] of ticks) {
        const tick = svgElement("text", {x: dim.x - 6, y: dim.position(value) + 4, class: "tick " + kind}, axis);
        tick.textContent = dim.numeric ? shortNumber(value) : value;
      }
      if (data.runs.some((run) => dim.y(run) === MISSING)) {
        const none = svgElement("text", {x: dim.x - 6, y: MISSING + 4, class: "tick missing"}, axis);
        none.textContent = "none";
      }
      const brush = svgElement("rect", {x: dim.x - 9, width: 18, y: 0, height: 0, class: "brush"}, axis);
      const grip = svgElement("rect", {x: dim.x - 14, width: 28, y: TOP - 6, height: MISSING - TOP + 14, class: "grip"}, axis);
      let start = null;
      const pointY = (event) => event.clientY - svg.getBoundingClientRect().top;
      grip.addEventListener("pointerdown", (event) => {
        start = pointY(event);
        grip.setPointerCapture(event.pointerId);
      });
      grip.addEventListener("pointermove", (event) => {
        if (start === null) return;
        const y = pointY(event);
        const range = [Math.min(start, y), Math.max(start, y)];
        brush.setAttribute("y", range[0]);
        brush.setAttribute("height", range[1] - range[0]);
        brushes.set(index, range);
        update();
      });
      grip.addEventListener("pointerup", (event) => {
        const moved = start !== null && Math.abs(pointY(event) - start) > 3;
        start = null;
        if (!moved) {  // a click clears this axis's range
          brushes.delete(index);
          brush.setAttribute("height", 0);
          update();
        }
      });
    });

    // The scatter: x a param (chosen), y the metric; box or lasso selection filters too.
    const scatter = document.getElementById("scatter");
    const choice = document.getElementById("scatter-x");
    function drawScatter() {
      if (!scatter || typeof Plotly === "undefined" || !metricKey) return;
      const key = choice.value;
      const shown = data.runs.filter((run) => run.params[key] !== undefined && typeof run.metrics[metricKey] === "number");
      const numeric = shown.every((run) => typeof run.params[key] === "number");
      const dim = dims.find((candidate) => candidate.key === key && !candidate.metric);
      Plotly.react(scatter, [{
        type: "scatter", mode: "markers", x: shown.map((run) => run.params[key]),
        y: shown.map((run) => run.metrics[metricKey]), customdata: shown.map((run) => run.id),
        text: shown.map((run) => run.id.slice(0, 8) + " " + run.name), hoverinfo: "text+x+y",
        marker: {color: shown.map(colour), size: 8},
      }], Object.assign({}, LAYOUT, {
        dragmode: "select", showlegend: false, title: {text: ""},
        xaxis: {title: {text: key}, type: numeric ? (dim && dim.log ? "log" : "linear") : "category"},
        yaxis: {title: {text: metricKey}},
      }), CONFIG);
    }
    if (choice) {
      choice.addEventListener("change", () => { scatterSelected = null; drawScatter(); update(); });
      drawScatter();
      if (scatter && scatter.on) {
        scatter.on("plotly_selected", (event) => {
          scatterSelected = event && event.points && event.points.length
            ? new Set(event.points.map((point) => point.customdata)) : null;
          update();
        });
        scatter.on("plotly_deselect", () => { scatterSelected = null; update(); });
      }
    }
    document.getElementById("explore-clear").addEventListener("click", () => {
      brushes.clear();
      svg.querySelectorAll("rect.brush").forEach((brush) => brush.setAttribute("height", 0));
      scatterSelected = null;
      drawScatter();
      update();
    });
    update();
  }

  const pages = {runs: runsPage, run: runPage, compare: comparePage, "served-model": servedModelPage,
                 explore: explorePage};
  const start = pages[document.body.dataset.page];
  if (start) start();
})();
