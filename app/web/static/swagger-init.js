// Starts the vendored Swagger UI on /api/docs. A file, not an inline script, so the page's
// Content-Security-Policy can forbid inline scripts. validatorUrl null: never call swagger.io.
window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui')
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-openapi-url'),
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    validatorUrl: null
  })
})
