// Pecan's API reference: Swagger UI on the page's #swagger-ui element,
// reading the OpenAPI document this server serves. No validator badge:
// it would send the document to a third party.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
  });
});
