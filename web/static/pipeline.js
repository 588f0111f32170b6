/* Pipeline board: a card's form (keyboard) or a drag onto another column calls
   POST /api/v1/projects/<id>/transitions; a 409 lists the unmet gates inside the card.
   The project page's small map (Leaflet served by Fondo). No inline script (CSP). */
(function () {
  "use strict";

  function show(box, text, gates) {
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    box.appendChild(p);
    if (gates && gates.length) {
      var ul = document.createElement("ul");
      ul.className = "error";
      gates.forEach(function (g) {
        var li = document.createElement("li");
        var code = document.createElement("code");
        code.textContent = g.name;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" — " + g.reason));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
  }

  function move(board, card, to, reason) {
    var box = card.querySelector(".refusal");
    var body = {to: to};
    if (reason) { body.reason = reason; }
    return fetch(card.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": board.getAttribute("data-csrf")},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (r.ok) {
          box.textContent = board.getAttribute("data-moved-text");
          window.location.hash = "project-" + card.getAttribute("data-project");
          window.location.reload();
          return;
        }
        var gates = answer.unmet_gates || [];
        var text = gates.length
          ? board.getAttribute("data-refused-text").replace("%(n)s", gates.length)
          : (answer.detail || answer.title || String(r.status));
        show(box, text, gates);
        box.setAttribute("data-status", String(r.status));
        var heading = card.querySelector("h3 a");
        if (heading) { heading.focus(); }
      });
    }).catch(function () { show(box, String("network error"), []); });
  }

  function board() {
    var b = document.getElementById("board");
    if (!b) { return; }
    b.querySelectorAll("form.move").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var card = form.closest(".card");
        move(b, card, form.elements.to.value, form.elements.reason.value.trim());
      });
    });
    var dragged = null;
    b.querySelectorAll(".card").forEach(function (card) {
      card.addEventListener("dragstart", function (e) {
        dragged = card;
        e.dataTransfer.setData("text/plain", card.getAttribute("data-project"));
        e.dataTransfer.effectAllowed = "move";
      });
    });
    b.querySelectorAll(".column").forEach(function (col) {
      col.addEventListener("dragover", function (e) { e.preventDefault(); col.classList.add("drop-target"); });
      col.addEventListener("dragleave", function () { col.classList.remove("drop-target"); });
      col.addEventListener("drop", function (e) {
        e.preventDefault();
        col.classList.remove("drop-target");
        if (!dragged) { return; }
        var form = dragged.querySelector("form.move");
        move(b, dragged, col.getAttribute("data-stage"), form.elements.reason.value.trim());
        dragged = null;
      });
    });
  }

  /* A small map of GeoJSON (a project's site, or the fund's projects as points). */
  function smallMap(box) {
    if (!box || !window.L) { return; }
    var map = L.map(box, {keyboard: true, attributionControl: false}).setView([23.5, -102.0], 5);
    fetch(box.getAttribute("data-geojson"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || !body.features.length) { return; }
        var layer = L.geoJSON(body, {
          style: {color: "#D55E00", weight: 2, fillOpacity: 0.2},
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, {radius: 4 + Math.sqrt(f.properties.capacity_mw || 1),
              color: "#0072B2", fillOpacity: 0.5});
          },
          onEachFeature: function (f, l) {
            var p = f.properties || {};
            l.bindTooltip([p.name, p.technology, p.capacity_mw ? p.capacity_mw + " MW" : "", p.state]
              .filter(Boolean).join(" · "));
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds(), {maxZoom: 10});
      }).catch(function () { /* the page reads without the map */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    board();
    smallMap(document.getElementById("site-map"));
    smallMap(document.getElementById("exposure-map"));
  });
}());
