/* Study pages: the site picker (Leaflet, served by Fondo), the technology switch and the
   progress bar that follows GET /api/v1/tasks/<id>. No inline script: CSP allows 'self'. */
(function () {
  "use strict";

  function technologySwitch() {
    var radios = document.querySelectorAll("input[name=technology]");
    if (!radios.length) { return; }
    function show() {
      var chosen = document.querySelector("input[name=technology]:checked");
      document.querySelectorAll("fieldset[data-technology]").forEach(function (set) {
        set.hidden = chosen && set.getAttribute("data-technology") !== chosen.value;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", show); });
    show();
  }

  function sitePicker() {
    var box = document.getElementById("site-map");
    if (!box || !window.L) { return; }
    var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
    var map = L.map(box, {keyboard: true}).setView([23.5, -102.0], 5);
    var tiles = box.getAttribute("data-tile-url");
    if (tiles) {
      L.tileLayer(tiles, {maxZoom: 18, attribution: box.getAttribute("data-tile-attribution") || ""}).addTo(map);
    }
    var marker = null;
    function place(latlng) {
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, {keyboard: false}).addTo(map); }
    }
    map.on("click", function (e) {
      lat.value = e.latlng.lat.toFixed(5);
      lon.value = e.latlng.lng.toFixed(5);
      place(e.latlng);
    });
    function typed() {
      var a = parseFloat(lat.value.replace(",", ".")), b = parseFloat(lon.value.replace(",", "."));
      if (isFinite(a) && isFinite(b)) { place([a, b]); }
    }
    lat.addEventListener("change", typed);
    lon.addEventListener("change", typed);
    typed();
    var outlines = box.getAttribute("data-corridors-url");
    if (outlines) {
      fetch(outlines, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          var layer = L.geoJSON(body, {style: {color: "#0b4f3c", weight: 2, fillOpacity: 0.08},
            onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }}).addTo(map);
          if (!lat.value) { map.fitBounds(layer.getBounds()); }
        }).catch(function () { /* the map still works without the outlines */ });
    }
    var url = box.getAttribute("data-stations-url");
    if (url) {
      fetch(url, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : {stations: []}; })
        .then(function (body) {
          (body.stations || []).forEach(function (s) {
            L.circleMarker([s.latitude, s.longitude], {radius: 4, color: "#0072B2"})
              .bindTooltip(s.name).addTo(map);
          });
        }).catch(function () { /* the map still works without the stations */ });
    }
  }

  function progress() {
    var panel = document.getElementById("progress");
    if (!panel) { return; }
    var url = panel.getAttribute("data-task-url");
    if (!url) { return; }
    var bar = document.getElementById("progress-bar");
    var stage = document.getElementById("progress-stage");
    var state = document.getElementById("progress-state");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (task) {
          var p = task.progress || {};
          if (p.total) { bar.max = p.total; bar.value = p.done || 0; bar.textContent = Math.round(100 * (p.done || 0) / p.total) + " %"; }
          stage.textContent = p.stage || "";
          state.textContent = task.state;
          if (task.state === "SUCCESS") {
            stage.textContent = panel.getAttribute("data-done-text");
            window.location.reload();
          } else if (task.state === "FAILURE") {
            stage.textContent = panel.getAttribute("data-failed-text").replace("%(reason)s", task.error || "");
            stage.className = "error";
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    technologySwitch();
    sitePicker();
    progress();
  });
}());
