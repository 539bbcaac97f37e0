"""The admin API's OpenAPI document (merged from each admin resolver) and Swagger UI.

Each admin handler module exposes its Powertools resolver as ``app``; the document is the
union of their paths plus a bearer scheme (the local gateway's admin auth; in AWS those
routes are IAM-authorized). Swagger UI's assets ship inside Powertools, so /docs needs no
CDN and works offline.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from atende_local.runtime import FunctionRegistry, HandlerUnavailable

SWAGGER_ASSETS = {
    "swagger-ui-bundle.min.js": "application/javascript",
    "swagger-ui.min.css": "text/css",
}
_SWAGGER_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


def admin_function_names(registry: FunctionRegistry) -> list[str]:
    return [
        name
        for name, spec in registry.specs.items()
        if any(route.auth == "admin" for route in spec.routes)
    ]


def _resolver_document(module: Any) -> dict[str, Any] | None:
    resolver = getattr(module, "app", None)
    if resolver is None:
        return None
    if hasattr(resolver, "get_openapi_json_schema"):
        return dict(json.loads(resolver.get_openapi_json_schema()))
    if hasattr(resolver, "get_openapi_schema"):
        schema = resolver.get_openapi_schema()
        return dict(json.loads(schema.model_dump_json(by_alias=True, exclude_none=True)))
    return None


def merged_openapi(registry: FunctionRegistry, *, server_url: str) -> dict[str, Any]:
    """One OpenAPI 3 document for every admin route; notes the functions it could not read."""
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "Atende admin API (local)",
            "version": "1.0.0",
            "description": (
                "Served by the local gateway. Locally every admin route needs "
                "`Authorization: Bearer <ATENDE_ADMIN_TOKEN>`; in AWS they are IAM-authorized "
                "(SigV4)."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
    unavailable: dict[str, str] = {}
    for name in admin_function_names(registry):
        try:
            module = registry.module(name)
            partial = _resolver_document(module)
        except HandlerUnavailable as exc:
            unavailable[name] = exc.reason
            continue
        except Exception as exc:  # a resolver whose schema cannot be generated
            unavailable[name] = f"{type(exc).__name__}: {exc}"
            continue
        if partial is None:
            unavailable[name] = "handler module exposes no resolver named 'app'"
            continue
        for path, operations in (partial.get("paths") or {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        schemas = (partial.get("components") or {}).get("schemas") or {}
        document["components"]["schemas"].update(schemas)
    if unavailable:
        document["x-atende-unavailable"] = unavailable
    return document


def swagger_asset(name: str) -> bytes:
    """One of the Swagger UI files shipped with Powertools."""
    if name not in SWAGGER_ASSETS:
        raise KeyError(name)
    return resources.files(_SWAGGER_PACKAGE).joinpath(name).read_bytes()


def swagger_html(openapi_url: str = "/openapi.json") -> str:
    """A Swagger UI page loading its assets from this gateway."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>Atende admin API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.min.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{openapi_url}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
    }});
  </script>
</body>
</html>
"""
