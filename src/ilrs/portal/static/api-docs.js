// Starts Swagger UI on /api/docs (a file, not an inline script: the portal's CSP allows scripts from itself only)
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.dataset.url, dom_id: "#swagger-ui", deepLinking: true });
})();
