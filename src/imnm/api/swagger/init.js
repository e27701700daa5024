// Starts Swagger UI on /docs (ours; loaded as a file so the page needs no inline script).
// The page names the OpenAPI document and the OAuth2 redirect page in data attributes.
"use strict";
(function () {
  function start() {
    var el = document.getElementById("swagger-ui");
    window.ui = SwaggerUIBundle({
      url: el.getAttribute("data-openapi-url"),
      oauth2RedirectUrl: window.location.origin + el.getAttribute("data-oauth2-redirect-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      layout: "BaseLayout",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    });
  }
  if (document.readyState !== "loading") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
