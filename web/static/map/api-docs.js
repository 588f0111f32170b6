// Start Swagger UI on the page's #swagger-ui with the document named by data-spec-url.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof SwaggerUIBundle === "undefined") { return; }
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: false,          // its links nest inside the operation buttons (axe: nested-interactive)
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,          // never call the online validator
    tryItOutEnabled: false,
    requestInterceptor: function (req) {
      var meta = document.querySelector("meta[name=csrf-token]");
      if (meta) { req.headers["X-CSRFToken"] = meta.getAttribute("content"); }
      return req;
    }
  });
}());
