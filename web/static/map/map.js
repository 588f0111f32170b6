// The officer map and the screening pages (issue 14): layers with legend and sources, a
// click report, a keyboard-usable drawing control, site saving, screenings with progress.
// Every figure comes from the REST API; every text from the server is put in the page with
// textContent (never as HTML), except the screening summary, which the server renders
// escaped by Jinja.
(function () {
  "use strict";

  var cfgNode = document.getElementById("map-config");
  if (!cfgNode || typeof L === "undefined") { return; }
  var cfg = JSON.parse(cfgNode.textContent);
  var S = cfg.strings;

  // ------------------------------------------------------------------ helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) { return "–"; }
    if (typeof value !== "number") { return String(value); }
    return value.toLocaleString(document.documentElement.lang || "es", {
      maximumFractionDigits: digits === undefined ? 2 : digits,
      minimumFractionDigits: 0
    });
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = cfg.csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var parse = type.indexOf("json") >= 0 ? response.json() : response.text();
      return parse.then(function (data) {
        if (!response.ok) { var err = new Error((data && data.detail) || response.statusText); err.problem = data; err.status = response.status; throw err; }
        return data;
      });
    });
  }

  function showFieldError(prefix, problem) {
    document.querySelectorAll("[id^='" + prefix + "'][id$='-error']").forEach(function (n) { n.textContent = ""; });
    if (problem && problem.field) {
      var spot = document.getElementById(prefix + problem.field.split(".")[0] + "-error");
      if (spot) { spot.textContent = problem.detail || ""; return true; }
    }
    return false;
  }

  // ------------------------------------------------------------------ the map

  var map = L.map("map", { center: cfg.centre, zoom: cfg.zoom, maxZoom: cfg.maxZoom, keyboard: true });
  map.attributionControl.setPrefix("Leaflet");
  window.fondoMap = map;  // for the browser tests and the console
  if (cfg.baseMap) {
    L.tileLayer(cfg.baseMap.url, { attribution: cfg.baseMap.attribution, maxZoom: 19 }).addTo(map);
  }
  map.createPane("cells"); map.getPane("cells").style.zIndex = 350;
  map.createPane("resource"); map.getPane("resource").style.zIndex = 300;

  // ------------------------------------------------------------------ layers

  var vectorLayers = {};   // id -> {layer, spec, on}
  var defaultOn = { corridors: true, states: !cfg.baseMap, municipalities: !cfg.baseMap };

  function popupFor(spec, feature) {
    var box = el("div", {}, [el("strong", { text: feature.properties.label || spec.title })]);
    var table = el("table", { "class": "report-table" });
    spec.properties.forEach(function (name) {
      var value = feature.properties[name];
      if (value === null || value === undefined || value === "") { return; }
      table.appendChild(el("tr", {}, [el("th", { scope: "row", text: name }), el("td", { text: fmt(value) })]));
    });
    box.appendChild(table);
    return box;
  }

  function makeVector(spec) {
    var polygon = spec.geometry === "polygon";
    return L.geoJSON(null, {
      style: function () {
        return { color: spec.colour, weight: polygon ? 1.5 : 2, fill: polygon && spec.id !== "states" && spec.id !== "municipalities" && spec.id !== "corridors", fillOpacity: 0.15 };
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: spec.id === "localities" ? 3 : 5, color: spec.colour, weight: 1, fillOpacity: 0.8 });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () { return popupFor(spec, feature); });
        layer.on("click", function (e) { L.DomEvent.stopPropagation(e); if (!drawing.mode) { layer.openPopup(e.latlng); } });
      }
    });
  }

  function refreshVector(id) {
    var entry = vectorLayers[id];
    if (!entry || !entry.on) { return; }
    var b = map.getBounds();
    var bbox = [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -90), Math.min(b.getEast(), 180), Math.min(b.getNorth(), 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
    var ticket = (entry.ticket || 0) + 1;
    entry.ticket = ticket;
    api("GET", entry.spec.url + "?zoom=" + map.getZoom() + "&bbox=" + bbox).then(function (data) {
      if (entry.ticket !== ticket) { return; }
      entry.layer.clearLayers();
      entry.layer.addData(data);
    }).catch(function () { /* a failed view leaves the previous one */ });
  }

  function legendFor(spec) {
    if (spec.kind === "raster") {
      var bar = el("div", { "class": "gradient" });
      spec.legend.forEach(function (stop) {
        bar.appendChild(el("span", { style: "background:" + stop.colour + ";color:" + textOn(stop.colour), text: fmt(stop.value, 1) }));
      });
      return bar;
    }
    return el("span", { "class": "swatch", style: "background:" + spec.colour + ";opacity:.8", "aria-hidden": "true" });
  }

  // Black or white, whichever contrasts more with a #rrggbb background (WCAG 2.1 relative
  // luminance: the contrast ratio with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05)).
  function textOn(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#000" : "#fff";
  }

  function sourcesFor(spec) {
    var details = el("details", {}, [el("summary", { text: S.source })]);
    (spec.sources || []).forEach(function (src) {
      details.appendChild(el("p", { text: src.source + ". " + S.licence + ": " + src.licence }));
    });
    if (spec.method) { details.appendChild(el("p", { text: spec.method })); }
    return details;
  }

  function buildLayerList() {
    var list = document.getElementById("layer-list");
    if (!list) { return; }
    cfg.layers.forEach(function (spec) {
      var id = "layer-" + spec.id;
      var box = el("input", { type: "checkbox", id: id });
      var item = el("li", {}, [box, spec.kind === "vector" ? legendFor(spec) : "", el("label", { "for": id, text: spec.title + (spec.unit ? " [" + spec.unit + "]" : "") })]);
      if (spec.kind === "raster") { item.appendChild(legendFor(spec)); }
      item.appendChild(sourcesFor(spec));
      list.appendChild(item);
      var entry;
      if (spec.kind === "vector") {
        entry = vectorLayers[spec.id] = { spec: spec, layer: makeVector(spec), on: false };
      } else {
        entry = vectorLayers[spec.id] = { spec: spec, layer: L.tileLayer(spec.url, { pane: "resource", opacity: 0.65, maxZoom: cfg.maxZoom }), on: false, raster: true };
      }
      box.addEventListener("change", function () {
        entry.on = box.checked;
        if (box.checked) { entry.layer.addTo(map); if (!entry.raster) { refreshVector(spec.id); } } else { map.removeLayer(entry.layer); }
      });
      if (defaultOn[spec.id]) { box.checked = true; box.dispatchEvent(new Event("change")); }
    });
  }
  // The corridors are always drawn on the screening pages (they have no layer list).
  if (!document.getElementById("layer-list")) {
    cfg.layers.forEach(function (spec) {
      if (spec.id === "corridors" || (!cfg.baseMap && spec.id === "states")) {
        vectorLayers[spec.id] = { spec: spec, layer: makeVector(spec).addTo(map), on: true };
        refreshVector(spec.id);
      }
    });
  }
  buildLayerList();
  var moveTimer = null;
  map.on("moveend", function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(function () { Object.keys(vectorLayers).forEach(function (id) { if (!vectorLayers[id].raster) { refreshVector(id); } }); }, 150);
  });

  // ------------------------------------------------------------------ screening overlay

  var overlay = { id: null, layer: null };
  var select = document.getElementById("screening-select");
  var colourBy = document.getElementById("colour-by");

  function showLegend(id) {
    var box = document.getElementById("screening-legend");
    if (!box) { return; }
    box.textContent = "";
    if (!id) { return; }
    api("GET", cfg.api.screenings + "/" + id + "/legend").then(function (legend) {
      var by = colourBy ? colourBy.value : "score";
      var spec = { kind: "raster", title: by === "score" ? S.score : S.lcoe, unit: legend[by].unit, legend: legend[by].legend };
      box.appendChild(el("p", { "class": "hint", text: spec.title + (spec.unit !== "-" ? " [" + spec.unit + "]" : "") }));
      box.appendChild(legendFor(spec));
      box.appendChild(el("p", { "class": "hint" }, [el("span", { "class": "swatch", style: "background:" + legend.excluded.colour, "aria-hidden": "true" }), S.excluded]));
    }).catch(function () {});
  }

  function fitScreening(id) {
    api("GET", cfg.api.screenings + "/" + id + "/legend").then(function (legend) {
      var b = legend.bounds_4326;
      if (b) { map.fitBounds([[b[1], b[0]], [b[3], b[2]]]); }
    }).catch(function () {});
  }

  function showScreening(id) {
    if (overlay.layer) { map.removeLayer(overlay.layer); overlay.layer = null; }
    overlay.id = id ? Number(id) : null;
    if (select && String(select.value) !== String(id || "")) { select.value = id || ""; }
    showLegend(id);
    if (!id) { return; }
    var by = colourBy ? colourBy.value : "score";
    overlay.layer = L.tileLayer(cfg.api.screenings + "/" + id + "/tiles/{z}/{x}/{y}.png?by=" + by, { pane: "cells", maxZoom: cfg.maxZoom, opacity: 0.9 }).addTo(map);
  }

  function loadScreenings(thenSelect) {
    if (!select) { return Promise.resolve(); }
    return api("GET", cfg.api.screenings).then(function (data) {
      while (select.options.length > 1) { select.remove(1); }
      data.screenings.filter(function (r) { return String(r.status).toUpperCase() === "SUCCESS"; }).forEach(function (r) {
        var area = r.corridor || S.drawn_polygon;
        select.appendChild(el("option", { value: String(r.id), text: "#" + r.id + " · " + area + " · " + r.technology + " · " + r.resolution_km + " km" }));
      });
      if (thenSelect) { showScreening(thenSelect); }
    }).catch(function () {});
  }
  if (select) { select.addEventListener("change", function () { showScreening(select.value); }); }
  if (colourBy) { colourBy.addEventListener("change", function () { showScreening(overlay.id); }); }
  loadScreenings(cfg.screening);
  if (cfg.screening) { fitScreening(cfg.screening); }

  // ------------------------------------------------------------------ reports

  var reportBox = document.getElementById("report");
  var marker = null;

  function constraintsTable(check) {
    var table = el("table", { "class": "report-table" }, [el("thead", {}, [el("tr", {}, [
      el("th", { scope: "col", text: S.constraint }), el("th", { scope: "col", text: S.result }), el("th", { scope: "col", text: S.reason })])])]);
    var body = el("tbody");
    check.constraints.forEach(function (c) {
      body.appendChild(el("tr", {}, [el("td", { text: c.name.replace(/_/g, " ") }),
        el("td", { "class": c.passed ? "pass" : "fail", text: c.passed ? S.passed : S.failed }),
        el("td", { text: c.reason })]));
    });
    table.appendChild(body);
    return table;
  }

  function facts(rows) {
    var table = el("table", { "class": "report-table" });
    rows.forEach(function (row) { table.appendChild(el("tr", {}, [el("th", { scope: "row", text: row[0] }), el("td", { text: row[1] })])); });
    return table;
  }

  function renderCheck(check, quick) {
    var a = check.attributes || {};
    var parts = [el("p", { "class": check.passed ? "pass" : "fail", text: check.passed ? S.site_passes : S.site_fails })];
    parts.push(constraintsTable(check));
    var rows = [[S.municipality, (a.municipality_name || "–") + ", " + (a.state_name || "–")],
      [S.ghi, fmt(a.ghi_kwh_m2_day, 2)], [S.wind, fmt(a.wind_speed_100m_m_s, 2)],
      [S.nearest_station, check.nearest_station ? check.nearest_station.name + " (" + fmt(check.nearest_station.distance_km, 1) + " " + S.km + ")" : "–"],
      [S.lcoe, fmt(a.lcoe_usd_per_mwh, 1)], [S.capacity_mw, fmt(check.capacity_mw, 1)], [S.area_km2, fmt(check.area_km2, 3)]];
    parts.push(el("h3", { text: S.resource }));
    parts.push(facts(rows));
    if (quick) {
      parts.push(el("h3", { text: S.quick_yield }));
      parts.push(facts([[S.energy_per_mw, fmt(quick.energy_mwh_per_mw, 0)], [S.capacity_factor, fmt(quick.capacity_factor, 3)],
        [S.p90_per_mw, fmt(quick.p90_mwh_per_mw, 0)]]));
      parts.push(el("p", { "class": "hint", text: quick.method }));
    }
    (check.notes || []).forEach(function (n) { parts.push(el("p", { "class": "hint", text: n })); });
    return parts;
  }

  function renderCell(cell) {
    var reasons = cell.exclusion_reasons || [];
    var list = el("ul", { "class": "reasons" });
    reasons.forEach(function (r) { list.appendChild(el("li", { text: r })); });
    var parts = [el("h3", { text: S.cell + " " + cell.cell_id })];
    parts.push(el("p", { "class": cell.excluded ? "fail" : "pass", text: cell.excluded ? S.excluded : S.no_reasons }));
    if (reasons.length) { parts.push(el("p", { text: S.reasons + ":" })); parts.push(list); }
    parts.push(facts([[S.score, fmt(cell.score, 3)], [S.rank, fmt(cell.rank, 0)], [S.lcoe, fmt(cell.lcoe_usd_per_mwh, 1)],
      [S.capacity_mw, fmt(cell.capacity_mw, 1)], [S.ghi, fmt(cell.ghi_kwh_m2_day, 2)], [S.wind, fmt(cell.wind_speed_100m_m_s, 2)],
      [S.municipality, cell.municipality_name || "–"], [S.consultation, cell.consultation_required ? (cell.consultation_reason || S.failed) : "–"]]));
    return parts;
  }

  function setReport(nodes) {
    if (!reportBox) { return; }
    reportBox.textContent = "";
    nodes.forEach(function (n) { reportBox.appendChild(n); });
    // Bring the report into the side panel's view (the panel scrolls, not the page).
    var panel = reportBox.closest(".map-side");
    if (panel && panel.scrollHeight > panel.clientHeight) {
      panel.scrollTop = reportBox.parentNode.offsetTop - panel.offsetTop;
    }
  }

  function technology() {
    var t = document.getElementById("report-technology");
    return t ? t.value : "pv";
  }

  function reportPoint(latlng) {
    if (marker) { map.removeLayer(marker); }
    marker = L.circleMarker(latlng, { radius: 7, color: "#b3005a", weight: 3, fill: false }).addTo(map);
    var head = el("p", { "class": "hint", text: S.point + " " + latlng.lat.toFixed(5) + ", " + latlng.lng.toFixed(5) });
    setReport([head, el("p", { text: S.loading })]);
    var cellPart = overlay.id ? api("GET", cfg.api.screenings + "/" + overlay.id + "/cell?longitude=" + latlng.lng + "&latitude=" + latlng.lat)
      .then(renderCell).catch(function () { return [el("p", { "class": "hint", text: S.no_cell })]; }) : Promise.resolve([]);
    var checkPart = cfg.canWrite ? api("POST", cfg.api.report, { longitude: latlng.lng, latitude: latlng.lat, technology: technology() })
      .then(function (r) { return renderCheck(r.check, r.quick_yield); })
      .catch(function (err) { return [el("p", { "class": "error", text: S.error + ": " + err.message })]; }) : Promise.resolve([]);
    return Promise.all([cellPart, checkPart]).then(function (parts) { setReport([head].concat(parts[0], parts[1])); });
  }

  // ------------------------------------------------------------------ drawing

  var drawing = { mode: null, points: [], shape: null, crosshair: null, drawn: null };
  var buttons = {
    point: document.getElementById("draw-point"), polygon: document.getElementById("draw-polygon"),
    finish: document.getElementById("draw-finish"), cancel: document.getElementById("draw-cancel")
  };
  var drawStatus = document.getElementById("draw-status");

  function setStatus(text) { if (drawStatus) { drawStatus.textContent = text; } }

  function redrawShape() {
    if (drawing.shape) { map.removeLayer(drawing.shape); drawing.shape = null; }
    if (!drawing.points.length) { return; }
    drawing.shape = drawing.points.length === 1 ? L.circleMarker(drawing.points[0], { radius: 5, color: "#b3005a" })
      : L.polygon(drawing.points, { color: "#b3005a", weight: 2, dashArray: "4 4" });
    drawing.shape.addTo(map);
  }

  function startDrawing(mode) {
    stopDrawing();
    drawing.mode = mode;
    drawing.points = [];
    if (buttons[mode]) { buttons[mode].setAttribute("aria-pressed", "true"); }
    buttons.cancel.disabled = false;
    buttons.finish.disabled = mode !== "polygon";
    drawing.crosshair = el("div", { "class": "map-crosshair", "aria-hidden": "true" });
    map.getContainer().appendChild(drawing.crosshair);
    map.getContainer().style.cursor = "crosshair";
    setStatus(mode === "point" ? S.drawing_point : S.drawing_polygon);
    map.getContainer().focus();
  }

  function stopDrawing() {
    drawing.mode = null;
    ["point", "polygon"].forEach(function (k) { if (buttons[k]) { buttons[k].setAttribute("aria-pressed", "false"); } });
    if (buttons.finish) { buttons.finish.disabled = true; buttons.cancel.disabled = true; }
    if (drawing.crosshair) { drawing.crosshair.remove(); drawing.crosshair = null; }
    map.getContainer().style.cursor = "";
  }

  function addVertex(latlng) {
    drawing.points.push(latlng);
    redrawShape();
    if (drawing.mode === "point") { finishDrawing(); return; }
    setStatus(S.drawing_polygon + " (" + drawing.points.length + " " + S.vertices + ")");
  }

  function geometryOf(points) {
    if (points.length === 1) { return { type: "Point", coordinates: [points[0].lng, points[0].lat] }; }
    var ring = points.map(function (p) { return [p.lng, p.lat]; });
    ring.push(ring[0]);
    return { type: "Polygon", coordinates: [ring] };
  }

  function finishDrawing() {
    if (drawing.mode === "polygon" && drawing.points.length < 3) { setStatus(S.drawing_polygon); return; }
    var points = drawing.points.slice();
    stopDrawing();
    if (drawing.shape && drawing.shape.setStyle) { drawing.shape.setStyle({ fill: false }); }
    drawing.drawn = geometryOf(points);
    document.dispatchEvent(new CustomEvent("fondo:drawn", { detail: drawing.drawn }));
    checkDrawn();
  }

  function checkDrawn() {
    if (!cfg.canWrite || !drawing.drawn) { return; }
    setReport([el("p", { text: S.loading })]);
    api("POST", "/api/v1/sites/check", { geometry: drawing.drawn, technology: technology() }).then(function (check) {
      setReport(renderCheck(check, null));
      var panel = document.getElementById("save-panel");
      if (panel) { panel.hidden = false; }
    }).catch(function (err) { setReport([el("p", { "class": "error", text: S.error + ": " + err.message })]); });
  }

  if (buttons.point) {
    buttons.point.addEventListener("click", function () { startDrawing("point"); });
    buttons.polygon.addEventListener("click", function () { startDrawing("polygon"); });
    buttons.finish.addEventListener("click", finishDrawing);
    buttons.cancel.addEventListener("click", function () { drawing.points = []; redrawShape(); stopDrawing(); setStatus(""); });
  }

  map.getContainer().addEventListener("keydown", function (e) {
    if (!drawing.mode) { return; }
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); addVertex(map.getCenter()); }
    else if (e.key === "Escape") { e.preventDefault(); drawing.points = []; redrawShape(); stopDrawing(); setStatus(""); }
    else if (e.key === "Backspace") { e.preventDefault(); drawing.points.pop(); redrawShape(); }
    else if ((e.key === "f" || e.key === "F") && drawing.mode === "polygon") { e.preventDefault(); finishDrawing(); }
  });

  map.on("click", function (e) {
    if (drawing.mode) { addVertex(e.latlng); return; }
    reportPoint(e.latlng);
  });

  var coordForm = document.getElementById("coord-form");
  if (coordForm) {
    coordForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var latlng = L.latLng(Number(coordForm.latitude.value), Number(coordForm.longitude.value));
      map.setView(latlng, Math.max(map.getZoom(), 10));
      reportPoint(latlng);
    });
  }

  // ------------------------------------------------------------------ saving a site

  var projectSelect = document.getElementById("site-project");
  if (projectSelect) {
    (cfg.projects || []).forEach(function (p) {
      projectSelect.appendChild(el("option", { value: String(p.id), text: "#" + p.id + " " + p.name + " (" + p.technology + ")" }));
    });
  }
  var saveForm = document.getElementById("save-form");
  if (saveForm) {
    saveForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = document.getElementById("save-status");
      var body = { name: saveForm.name.value, geometry: drawing.drawn, technology: technology() };
      if (saveForm.project_id.value) { body.project_id = Number(saveForm.project_id.value); }
      status.textContent = S.loading;
      api("POST", cfg.api.sites, body).then(function (site) {
        showFieldError("site-", null);
        status.textContent = S.saved + " #" + site.id + ": " + site.name;
        if (drawing.shape) { drawing.shape.setStyle({ dashArray: null }); drawing.shape.bindTooltip(site.name); drawing.shape = null; }
      }).catch(function (err) {
        var problem = err.problem || {};
        var field = problem.field === "project_id" ? "project" : problem.field;
        showFieldError("site-", field ? { field: field, detail: problem.detail } : null);
        status.textContent = S.error + ": " + err.message;
      });
    });
  }

  // ------------------------------------------------------------------ screenings

  var form = document.getElementById("screening-form");
  var parameterDefaults = {};

  function parameterTable(data) {
    var box = document.getElementById("parameter-table");
    box.textContent = "";
    parameterDefaults = {};
    var groups = {};
    data.parameters.forEach(function (row) { (groups[row.group] = groups[row.group] || []).push(row); });
    Object.keys(groups).forEach(function (group) {
      var table = el("table", {}, [el("caption", { text: group }), el("thead", {}, [el("tr", {}, [
        el("th", { scope: "col", text: "" }), el("th", { scope: "col", text: S.value }), el("th", { scope: "col", text: S.source })])])]);
      var body = el("tbody");
      groups[group].forEach(function (row) {
        var id = "param-" + row.path.replace(/\./g, "-");
        var input;
        if (row.type === "number" || row.type === "integer") {
          input = el("input", { id: id, type: "number", step: row.type === "integer" ? "1" : "any", value: String(row.default), "data-path": row.path, "aria-describedby": id + "-desc" });
          if (row.minimum !== undefined) { input.setAttribute("min", String(row.minimum)); }
          if (row.maximum !== undefined) { input.setAttribute("max", String(row.maximum)); }
        } else if (row.type === "boolean") {
          input = el("input", { id: id, type: "checkbox", "data-path": row.path, "aria-describedby": id + "-desc" });
          input.checked = !!row.default;
        } else {
          input = el("output", { id: id, text: JSON.stringify(row.default), "aria-describedby": id + "-desc" });
        }
        parameterDefaults[row.path] = row;
        body.appendChild(el("tr", {}, [el("td", {}, [el("label", { "for": id, text: row.path.split(".").slice(1).join(".") || row.path })]),
          el("td", {}, [input, el("span", { "class": "field-error", id: "screening-parameters." + row.path + "-error" })]),
          el("td", { "class": "desc", id: id + "-desc", text: row.description + " (default " + JSON.stringify(row.default) + ")" })]));
      });
      table.appendChild(body);
      box.appendChild(table);
    });
  }

  function loadParameters() {
    var tech = document.getElementById("screening-technology").value;
    api("GET", cfg.api.parameters + "/" + tech).then(parameterTable).catch(function () {});
  }

  function changedParameters() {
    var out = {};
    document.querySelectorAll("#parameter-table input[data-path]").forEach(function (input) {
      var row = parameterDefaults[input.getAttribute("data-path")];
      var value = input.type === "checkbox" ? input.checked : Number(input.value);
      if (input.type !== "checkbox" && (input.value === "" || value === Number(row.default))) { return; }
      if (input.type === "checkbox" && value === !!row.default) { return; }
      var parts = row.path.split(".");
      var node = out;
      parts.slice(0, -1).forEach(function (p) { node = node[p] = node[p] || {}; });
      node[parts[parts.length - 1]] = value;
    });
    return out;
  }

  function followTask(taskUrl, screeningId) {
    var bar = document.getElementById("screening-progress-bar");
    var stage = document.getElementById("screening-stage");
    document.getElementById("screening-progress").hidden = false;
    function poll() {
      api("GET", taskUrl).then(function (task) {
        var total = (task.progress && task.progress.total) || 1;
        var done = (task.progress && task.progress.done) || 0;
        bar.max = total || 1;
        bar.value = Math.min(done, bar.max);
        var state = String(task.state || "").toLowerCase();
        var stageText = task.progress && task.progress.stage ? " · " + task.progress.stage : "";
        stage.textContent = (state === "success" ? S.done : state === "pending" ? S.queued : S.running) + " · " + done + " / " + total + " " + S.tiles + stageText;
        if (state === "success") {
          bar.value = bar.max;
          loadScreenings(screeningId);
          fitScreening(screeningId);
          fetch("/screenings/" + screeningId + "/summary", { credentials: "same-origin" }).then(function (r) { return r.text(); })
            .then(function (html) { document.getElementById("screening-summary").innerHTML = html; });
          return;
        }
        if (state === "failure") { stage.textContent = S.failed_task + ": " + (task.error || ""); return; }
        setTimeout(poll, 600);
      }).catch(function (err) { stage.textContent = S.error + ": " + err.message; });
    }
    poll();
  }

  if (form) {
    document.getElementById("screening-technology").addEventListener("change", loadParameters);
    loadParameters();
    document.addEventListener("fondo:drawn", function (e) {
      if (e.detail.type === "Polygon") { document.getElementById("area-polygon").checked = true; }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var errorBox = document.getElementById("screening-error");
      errorBox.textContent = "";
      var usePolygon = form.area.value === "polygon";
      var body = { technology: form.technology.value, resolution_km: Number(form.resolution_km.value) };
      if (usePolygon) { body.geometry = drawing.drawn && drawing.drawn.type === "Polygon" ? drawing.drawn : null; }
      else { body.corridor = form.corridor.value; }
      var params = changedParameters();
      if (Object.keys(params).length) { body.parameters = params; }
      api("POST", cfg.api.screenings, body).then(function (task) {
        showFieldError("screening-", null);
        followTask(cfg.api.tasks + "/" + task.id, task.screening_id);
      }).catch(function (err) {
        var problem = err.problem || {};
        if (!showFieldError("screening-", problem)) { errorBox.textContent = err.message; }
        else { errorBox.textContent = err.message; }
      });
    });
  }
}());
