// Swagger UI for /api/v1/openapi.json from django-ninja's bundled files (no CDN, no inline
// script: the settings come from a JSON data block, which CSP does not execute).
(function () {
  "use strict";
  var node = document.getElementById("swagger-settings");
  if (!node || typeof SwaggerUIBundle === "undefined") { return; }
  var config = JSON.parse(node.textContent);
  config.dom_id = "#swagger-ui";
  config.presets = [SwaggerUIBundle.presets.apis];
  config.layout = "BaseLayout";
  SwaggerUIBundle(config);
})();
